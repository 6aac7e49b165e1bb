"""Calls and their categories, applications (planned events, co-organisers, budget lines,
attachments), expert reviews, public notices and objections, funds in tranches, the results a
project records, and the verdicts of acceptance.

A call is data: its YAML definition is validated (``call_schema``) and kept whole as a JSON
snapshot in ``Call.definition``; the columns beside it (dates, amounts, quotas) are copies the
queries need. Money is integer fen.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TimestampMixin, TitledEnum, UTCDateTime, VersionedMixin, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.events.models import District, EventKind, FilingStatus
from conference_app.extensions import db


class CallStatus(TitledStrEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = "published", _l("Published")
    CLOSED = "closed", _l("Closed")


class Call(TimestampMixin, AuditedMixin, db.Model):
    """A year's call (申报指南): its validated definition and the columns queries need."""

    __tablename__ = "program_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    title_zh: Mapped[str] = mapped_column(String(300), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(300))
    opens_on: Mapped[date] = mapped_column(Date, nullable=False)
    closes_on: Mapped[date] = mapped_column(Date, nullable=False)
    budget_fen: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[CallStatus] = mapped_column(TitledEnum(CallStatus, 20), default=CallStatus.DRAFT, nullable=False)
    definition: Mapped[dict] = mapped_column(JSON, nullable=False)  # CallDefinition.model_dump(mode="json")
    source_name: Mapped[str] = mapped_column(String(255), nullable=False)  # the file it was loaded from
    source_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    categories = relationship("CallCategory", back_populates="call", order_by="CallCategory.position",
                              cascade="all, delete-orphan")

    @property
    def audit_label(self) -> str:
        return f"{self.code} {self.title_zh}"


class CallCategory(db.Model):
    """One category of a call (A, B, C, F ...), with the figures quotas are checked against."""

    __tablename__ = "program_call_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("program_calls.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    code: Mapped[str] = mapped_column(String(30), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(300))
    cap_fen: Mapped[int] = mapped_column(Integer, nullable=False)  # the fixed amount, or the cap
    amount_is_fixed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    quota: Mapped[int | None] = mapped_column(Integer)
    budget_fen: Mapped[int | None] = mapped_column(Integer)
    per_district_quota: Mapped[int | None] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)

    call = relationship("Call", back_populates="categories")

    __table_args__ = (UniqueConstraint("call_id", "code", name="uq_program_category_code"),)

    def definition(self):
        """This category's ``CategoryDefinition`` from the call's snapshot."""
        from conference_app.programs.services.calls import call_definition

        return call_definition(self.call).category(self.code)


class ApplicationStatus(TitledStrEnum):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted, awaiting formal review")
    RETURNED = "returned", _l("Returned for correction")
    REJECTED = "rejected", _l("Rejected at formal review")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    EXPERT_REVIEW = "expert_review", _l("In expert review")
    APPROVED = "approved", _l("Approved for funding")
    NOT_APPROVED = "not_approved", _l("Not approved")
    IN_NOTICE = "in_notice", _l("In public notice")
    AGREEMENT = "agreement", _l("Task agreement to sign")
    IN_PROGRESS = "in_progress", _l("In progress")
    MIDTERM = "midterm", _l("Mid-term evaluation")
    ACCEPTANCE = "acceptance", _l("In acceptance")
    CLOSED = "closed", _l("Closed")


# An application in one of these states no longer takes a place in its call.
ENDED_STATES = frozenset({ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN, ApplicationStatus.NOT_APPROVED})
# States of a funded project (approved and after).
FUNDED_STATES = frozenset({ApplicationStatus.APPROVED, ApplicationStatus.IN_NOTICE, ApplicationStatus.AGREEMENT,
                           ApplicationStatus.IN_PROGRESS, ApplicationStatus.MIDTERM, ApplicationStatus.ACCEPTANCE,
                           ApplicationStatus.CLOSED})


class Application(TimestampMixin, AuditedMixin, VersionedMixin, db.Model):
    """A society's application for a category; once approved, its project."""

    __tablename__ = "program_applications"
    __audit_exempt__ = frozenset({"updated_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("program_calls.id", ondelete="RESTRICT"), nullable=False,
                                         index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("program_call_categories.id", ondelete="RESTRICT"),
                                             nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    form_code: Mapped[str | None] = mapped_column(String(40))  # a category's form (C: annual meeting / series)
    status: Mapped[ApplicationStatus] = mapped_column(TitledEnum(ApplicationStatus, 20),
                                                      default=ApplicationStatus.DRAFT, nullable=False, index=True)
    project_name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    project_name_en: Mapped[str | None] = mapped_column(String(300))
    theme: Mapped[str | None] = mapped_column(Text)
    expected_outcomes: Mapped[str | None] = mapped_column(Text)
    requested_fen: Mapped[int] = mapped_column(Integer, nullable=False)
    matching_funds_fen: Mapped[int | None] = mapped_column(Integer)
    district: Mapped[District | None] = mapped_column(TitledEnum(District, 20))  # where it is held
    confirmed_rules: Mapped[list] = mapped_column(JSON, default=list, nullable=False)  # staff-confirmed rule indexes
    series_id: Mapped[int | None] = mapped_column(ForeignKey("salon_series.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreement_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    agreement_signed_on: Mapped[date | None] = mapped_column(Date)
    recovery_fen: Mapped[int | None] = mapped_column(Integer)  # decided at acceptance
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    call = relationship("Call")
    category = relationship("CallCategory")
    organisation = relationship("Organisation")
    series = relationship("SalonSeries")
    planned_events = relationship("PlannedEvent", back_populates="application", order_by="PlannedEvent.position",
                                  cascade="all, delete-orphan")
    co_organisers = relationship("CoOrganiser", back_populates="application", order_by="CoOrganiser.position",
                                 cascade="all, delete-orphan")
    budget_lines = relationship("BudgetLine", back_populates="application", order_by="BudgetLine.position",
                                cascade="all, delete-orphan")
    attachments = relationship("ApplicationAttachment", back_populates="application",
                               order_by="ApplicationAttachment.id", cascade="all, delete-orphan")
    reviews = relationship("ApplicationReview", back_populates="application", order_by="ApplicationReview.id",
                           cascade="all, delete-orphan")
    tranches = relationship("Tranche", back_populates="application", order_by="Tranche.position",
                            cascade="all, delete-orphan")
    linked_events = relationship("ProjectEvent", back_populates="application", cascade="all, delete-orphan")
    records = relationship("ProjectRecord", back_populates="application", order_by="ProjectRecord.recorded_on",
                           cascade="all, delete-orphan")

    @property
    def owner_organisation_id(self) -> int:
        return self.organisation_id

    @property
    def co_organiser_ids(self) -> set[int]:
        return {c.organisation_id for c in self.co_organisers if c.organisation_id is not None}

    @property
    def budget_total_fen(self) -> int:
        return sum(line.amount_fen for line in self.budget_lines)

    @property
    def audit_label(self) -> str:
        return self.project_name_zh


class PlannedEvent(db.Model):
    """An event the application plans (the recorded event later counts, this is the plan)."""

    __tablename__ = "program_planned_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    kind: Mapped[EventKind] = mapped_column(TitledEnum(EventKind, 30), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    venue: Mapped[str | None] = mapped_column(String(300))
    district: Mapped[District | None] = mapped_column(TitledEnum(District, 20))
    expected_attendance: Mapped[int | None] = mapped_column(Integer)
    filing_status: Mapped[FilingStatus] = mapped_column(TitledEnum(FilingStatus, 20),
                                                        default=FilingStatus.NOT_NEEDED, nullable=False)

    application = relationship("Application", back_populates="planned_events")


class CoOrganiser(db.Model):
    """A co-organiser with its responsibility (主承办责任); a platform organisation or a name."""

    __tablename__ = "program_co_organisers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    responsibility: Mapped[str] = mapped_column(String(500), nullable=False)

    application = relationship("Application", back_populates="co_organisers")


class BudgetLine(db.Model):
    """One line of the budget; the lines sum to the requested amount."""

    __tablename__ = "program_budget_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    item: Mapped[str] = mapped_column(String(200), nullable=False)
    amount_fen: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str | None] = mapped_column(String(500))

    application = relationship("Application", back_populates="budget_lines")


class ApplicationAttachment(db.Model):
    """A file attached to an application, stored under UPLOAD_DIR with a generated name."""

    __tablename__ = "program_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    path: Mapped[str] = mapped_column(String(300), nullable=False)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    file_kind: Mapped[str] = mapped_column(String(10), nullable=False)  # pdf, docx, xlsx (from the bytes)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    application = relationship("Application", back_populates="attachments")


class ApplicationReview(TimestampMixin, db.Model):
    """An expert's review of an application: scores per rubric criterion and a comment."""

    __tablename__ = "program_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False,
                                             index=True)
    scores: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)  # criterion code -> score
    total: Mapped[float | None] = mapped_column(db.Float)  # weighted, 0-100, when submitted
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application = relationship("Application", back_populates="reviews")
    reviewer = relationship("User")

    __table_args__ = (UniqueConstraint("application_id", "reviewer_id", name="uq_program_review"),)

    @property
    def owner_user_id(self) -> int:
        return self.reviewer_id


class TrancheWhen(TitledStrEnum):
    ON_APPROVAL = "on_approval", _l("On approval")
    AFTER_MIDTERM = "after_midterm", _l("After the mid-term evaluation")
    AFTER_ACCEPTANCE = "after_acceptance", _l("After acceptance")


class TrancheStatus(TitledStrEnum):
    PLANNED = "planned", _l("Planned")
    RELEASED = "released", _l("Released")
    WITHHELD = "withheld", _l("Withheld (recovered)")


class Tranche(TimestampMixin, AuditedMixin, db.Model):
    """A planned payment of a project (60 / 30 / 10 ...); released by staff on a date."""

    __tablename__ = "program_tranches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    percent: Mapped[int] = mapped_column(Integer, nullable=False)
    when: Mapped[TrancheWhen] = mapped_column(TitledEnum(TrancheWhen, 20), nullable=False)
    amount_fen: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[TrancheStatus] = mapped_column(TitledEnum(TrancheStatus, 20), default=TrancheStatus.PLANNED,
                                                  nullable=False)
    released_on: Mapped[date | None] = mapped_column(Date)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application = relationship("Application", back_populates="tranches")
    released_by = relationship("User")

    __table_args__ = (UniqueConstraint("application_id", "position", name="uq_program_tranche"),)

    @property
    def audit_label(self) -> str:
        return f"{self.application.project_name_zh} #{self.position}"


class ProjectEvent(db.Model):
    """An event recorded in the events domain that counts for this project's indicators."""

    __tablename__ = "program_project_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)

    application = relationship("Application", back_populates="linked_events")
    event = relationship("Event")

    __table_args__ = (UniqueConstraint("application_id", "event_id", name="uq_program_project_event"),)


class RecordKind(TitledStrEnum):
    OUTCOME = "outcome", _l("Outcome")
    TYPICAL_CASE = "typical_case", _l("Typical case")
    PROBLEM = "problem", _l("Frontier problem addressed")
    NEWS_ITEM = "news_item", _l("News item")
    SLIDE_DECK = "slide_deck", _l("Slide deck")
    SPECIAL_ISSUE = "special_issue", _l("Conference special issue")
    PUBLICITY = "publicity", _l("Publicity")
    DOCUMENT = "document", _l("Document")


class ProjectRecord(TimestampMixin, AuditedMixin, db.Model):
    """A result a project records: an outcome, a case, a news item, a document (its Chinese
    characters counted from the file) ..."""

    __tablename__ = "program_project_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False, index=True)
    kind: Mapped[RecordKind] = mapped_column(TitledEnum(RecordKind, 20), nullable=False)
    subkind: Mapped[str | None] = mapped_column(String(40))  # outcome kind or document kind
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    link: Mapped[str | None] = mapped_column(String(500))
    site: Mapped[str | None] = mapped_column(String(200))  # news: the medium
    recorded_on: Mapped[date] = mapped_column(Date, nullable=False)
    file_path: Mapped[str | None] = mapped_column(String(300))
    file_name: Mapped[str | None] = mapped_column(String(255))
    char_count: Mapped[int | None] = mapped_column(Integer)  # documents: Chinese characters counted

    application = relationship("Application", back_populates="records")

    @property
    def owner_organisation_id(self) -> int:
        return self.application.organisation_id

    @property
    def audit_label(self) -> str:
        return self.title


class Notice(TimestampMixin, AuditedMixin, db.Model):
    """A public notice (立项公示) of a call's approved projects, open from start to end."""

    __tablename__ = "program_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("program_calls.id", ondelete="RESTRICT"), nullable=False,
                                         index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    application_ids: Mapped[list] = mapped_column(JSON, nullable=False)  # the projects it lists
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    call = relationship("Call")
    objections = relationship("Objection", back_populates="notice", order_by="Objection.id")

    @property
    def audit_label(self) -> str:
        return self.title


class Objection(TimestampMixin, AuditedMixin, db.Model):
    """A written objection to a notice (异议): confidential, read and handled by staff only."""

    __tablename__ = "program_objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("program_notices.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("program_applications.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100), nullable=False)  # objections are signed (实名)
    contact: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(Text)

    notice = relationship("Notice", back_populates="objections")
    application = relationship("Application")

    @property
    def audit_label(self) -> str:
        return f"{self.notice.title} #{self.id}"


class AcceptanceVerdict(db.Model):
    """Staff's verdict on one indicator at acceptance: what the system proposed and what stands."""

    __tablename__ = "program_acceptance_verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="CASCADE"),
                                                nullable=False)
    indicator_code: Mapped[str] = mapped_column(String(40), nullable=False)
    proposed: Mapped[str] = mapped_column(String(20), nullable=False)  # the evaluation's status
    decided: Mapped[str] = mapped_column(String(20), nullable=False)  # met / not_met
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("application_id", "indicator_code", name="uq_program_verdict"),)


Index("ix_program_applications_call_category_status", Application.call_id, Application.category_id,
      Application.status)
