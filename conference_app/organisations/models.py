"""Organisations (学会 / 基层组织 / 高校科协 ...) and their past academic events."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TimestampMixin, TitledEnum, UTCDateTime, VersionedMixin
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db


class OrganisationType(TitledStrEnum):
    SOCIETY = "society", _l("Society")
    GRASSROOTS = "grassroots", _l("Grassroots organisation")
    UNIVERSITY_ASSOCIATION = "university_association", _l("University S&T association")
    ENTERPRISE_ASSOCIATION = "enterprise_association", _l("Enterprise S&T association")
    PARK_ASSOCIATION = "park_association", _l("Park S&T association")
    JOURNAL_PUBLISHER = "journal_publisher", _l("Journal publisher")
    OTHER = "other", _l("Other")


class OrganisationStatus(TitledStrEnum):
    PENDING = "pending", _l("Pending review")  # self-registered, waiting for staff
    APPROVED = "approved", _l("Approved")
    REJECTED = "rejected", _l("Rejected")


# Labels of the fields people fill in; forms show them and services name them in messages.
ORGANISATION_FIELD_LABELS = {
    "name_zh": _l("Chinese name"),
    "name_en": _l("English name"),
    "org_type": _l("Organisation type"),
    "credit_code": _l("Unified social credit code"),
    "is_bast_member": _l("BAST group member"),
    "bast_member_since": _l("Group member since"),
    "in_journal_excellence_plan": _l("Journal Excellence Action Plan unit"),
    "publishes_journal": _l("Publishes a journal"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact e-mail"),
    "address": _l("Address"),
}


class Organisation(AuditedMixin, VersionedMixin, TimestampMixin, db.Model):
    """A unit that may apply for program categories."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(300))
    org_type: Mapped[OrganisationType] = mapped_column(TitledEnum(OrganisationType, 40), nullable=False)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    is_bast_member: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    bast_member_since: Mapped[date | None] = mapped_column(Date)
    in_journal_excellence_plan: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    publishes_journal: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[OrganisationStatus] = mapped_column(
        TitledEnum(OrganisationStatus, 20), default=OrganisationStatus.PENDING, nullable=False, index=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True, ondelete="SET NULL"))
    review_comment: Mapped[str | None] = mapped_column(Text)

    users = relationship("User", back_populates="organisation", foreign_keys="User.organisation_id",
                         order_by="User.id")
    past_events = relationship(
        "PastEvent",
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="(PastEvent.year.desc(), PastEvent.id)",
    )

    @property
    def owner_organisation_id(self) -> int:
        return self.id

    @property
    def audit_label(self) -> str:
        return self.name_zh

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name_zh}>"


class PastEventKind(TitledStrEnum):
    INTERNATIONAL = "international", _l("International conference")
    NATIONAL = "national", _l("National conference")
    REGIONAL = "regional", _l("Regional conference")
    OTHER = "other", _l("Other academic exchange")


class PastEventRole(TitledStrEnum):
    HOST = "host", _l("Host")
    CO_HOST = "co_host", _l("Co-host")
    MAIN_ORGANISER = "main_organiser", _l("Main organiser")


class PastEvent(AuditedMixin, TimestampMixin, db.Model):
    """An academic event the organisation held before; used for category eligibility."""

    __tablename__ = "organisation_past_events"
    __table_args__ = (UniqueConstraint("organisation_id", "year", "title", name="uq_past_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[PastEventKind] = mapped_column(TitledEnum(PastEventKind, 20), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    role: Mapped[PastEventRole] = mapped_column(TitledEnum(PastEventRole, 20), nullable=False)
    held_in_beijing: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    organisation = relationship("Organisation", back_populates="past_events")

    @property
    def owner_organisation_id(self) -> int:
        return self.organisation_id

    @property
    def audit_label(self) -> str:
        return f"{self.year} {self.title}"
