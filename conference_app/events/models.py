"""Academic Month editions, events and the people on their programme, brand salon series
with their topic selection, registrations and check-ins, and the Top-10 influential
conferences rounds.

These rows are the facts the programs' performance indicators are computed from: which
events an organisation held (of which kind, where, when, in which role), who spoke, how
many person-times (人次) came, whether an international conference was filed and approved.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TimestampMixin, TitledEnum, UTCDateTime, VersionedMixin, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db
from conference_app.organisations.models import PastEventRole


class EventKind(TitledStrEnum):
    INTERNATIONAL = "international", _l("International conference")
    NATIONAL = "national", _l("National conference")
    REGIONAL = "regional", _l("Regional (Beijing-Tianjin-Hebei) conference")
    ANNUAL_MEETING = "annual_meeting", _l("Annual meeting")
    SALON_SESSION = "salon_session", _l("Salon session")
    REPORT_SESSION = "report_session", _l("Report session")
    OTHER = "other", _l("Other academic exchange")


CONFERENCE_KINDS = frozenset({EventKind.INTERNATIONAL, EventKind.NATIONAL, EventKind.REGIONAL})


class EventStatus(TitledStrEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = "published", _l("Published")
    HELD = "held", _l("Held")
    CANCELLED = "cancelled", _l("Cancelled")


class EventMode(TitledStrEnum):
    OFFLINE = "offline", _l("On site")
    ONLINE = "online", _l("Online")
    HYBRID = "hybrid", _l("On site and online")


class FilingStatus(TitledStrEnum):
    """The international-conference filing and approval (国际学术会议报备审批)."""

    NOT_NEEDED = "not_needed", _l("Not needed")
    PENDING = "pending", _l("Filed, awaiting approval")
    APPROVED = "approved", _l("Approved")


class District(TitledStrEnum):
    """Beijing's sixteen districts."""

    DONGCHENG = "dongcheng", _l("Dongcheng")
    XICHENG = "xicheng", _l("Xicheng")
    CHAOYANG = "chaoyang", _l("Chaoyang")
    HAIDIAN = "haidian", _l("Haidian")
    FENGTAI = "fengtai", _l("Fengtai")
    SHIJINGSHAN = "shijingshan", _l("Shijingshan")
    MENTOUGOU = "mentougou", _l("Mentougou")
    FANGSHAN = "fangshan", _l("Fangshan")
    TONGZHOU = "tongzhou", _l("Tongzhou")
    SHUNYI = "shunyi", _l("Shunyi")
    CHANGPING = "changping", _l("Changping")
    DAXING = "daxing", _l("Daxing")
    HUAIROU = "huairou", _l("Huairou")
    PINGGU = "pinggu", _l("Pinggu")
    MIYUN = "miyun", _l("Miyun")
    YANQING = "yanqing", _l("Yanqing")


class PersonRole(TitledStrEnum):
    """What a person does on an event's programme."""

    SPEAKER = "speaker", _l("Speaker")
    INITIATOR = "initiator", _l("Initiator")  # 发起人 of a salon session
    DISCUSSANT = "discussant", _l("Main discussant")  # 主要参与研讨人员
    GUEST = "guest", _l("Discussion guest")  # 交流嘉宾
    CHAIR = "chair", _l("Chair")


class ExpertRank(TitledStrEnum):
    """The rank some calls count (">= 3 academicians or renowned experts", seed 002)."""

    ACADEMICIAN = "academician", _l("Academician")
    RENOWNED_EXPERT = "renowned_expert", _l("Renowned expert")


class AcademicMonthEdition(TimestampMixin, AuditedMixin, VersionedMixin, db.Model):
    """One Beijing S&T Exchange Academic Month (the 29th: 2026-10-01 to 2026-11-30).

    An event whose Beijing dates fall inside an edition belongs to it (``Event.edition_id``
    is kept by the services when either changes).
    """

    __tablename__ = "academic_month_editions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)

    @property
    def audit_label(self) -> str:
        return f"第{self.number}届 ({self.starts_on}..{self.ends_on})"


class SalonSeries(TimestampMixin, AuditedMixin, VersionedMixin, db.Model):
    """A brand salon series (高频次、小规模、深层次学术沙龙) of one organisation for one year.

    Its documented topic-selection mechanism (规范化选题机制) is the text here plus the record
    of proposals and decisions (``TopicProposal``); its sessions are events of kind
    salon session.
    """

    __tablename__ = "salon_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False,
                                                 index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    topic_mechanism: Mapped[str] = mapped_column(Text, nullable=False)  # how topics are proposed and chosen
    committee: Mapped[str | None] = mapped_column(Text)  # the members who choose, one per line
    venue: Mapped[str | None] = mapped_column(String(300))  # the fixed venue (seed 004)
    district: Mapped[District | None] = mapped_column(TitledEnum(District, 20))
    sessions_target: Mapped[int] = mapped_column(Integer, default=4, nullable=False)
    person_times_target: Mapped[int] = mapped_column(Integer, default=100, nullable=False)

    organisation = relationship("Organisation")
    sessions = relationship("Event", back_populates="series", order_by="Event.starts_at")
    proposals = relationship("TopicProposal", back_populates="series", order_by="TopicProposal.id",
                             cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("organisation_id", "year", "title_zh", name="uq_salon_series_title"),)

    @property
    def owner_organisation_id(self) -> int:
        return self.organisation_id

    @property
    def audit_label(self) -> str:
        return f"{self.year} {self.title_zh}"


class TopicStatus(TitledStrEnum):
    PROPOSED = "proposed", _l("Proposed")
    CHOSEN = "chosen", _l("Chosen")
    DECLINED = "declined", _l("Not chosen")


class TopicProposal(TimestampMixin, AuditedMixin, db.Model):
    """A topic a member proposed for a salon series, and the committee's decision on it."""

    __tablename__ = "salon_topic_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("salon_series.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    rationale: Mapped[str | None] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(200), nullable=False)  # a name, possibly not a user
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[TopicStatus] = mapped_column(TitledEnum(TopicStatus, 20), default=TopicStatus.PROPOSED,
                                                nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(500))  # the committee members who decided
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)

    series = relationship("SalonSeries", back_populates="proposals")
    sessions = relationship("Event", back_populates="topic")

    @property
    def owner_organisation_id(self) -> int:
        return self.series.organisation_id

    @property
    def audit_label(self) -> str:
        return self.title


class Event(TimestampMixin, AuditedMixin, VersionedMixin, db.Model):
    """A conference, annual meeting, salon session, report session or other exchange."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[EventKind] = mapped_column(TitledEnum(EventKind, 30), nullable=False, index=True)
    status: Mapped[EventStatus] = mapped_column(TitledEnum(EventStatus, 20), default=EventStatus.DRAFT,
                                                nullable=False, index=True)
    title_zh: Mapped[str] = mapped_column(String(300), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(400))
    description: Mapped[str | None] = mapped_column(Text)
    agenda: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("academic_month_editions.id", ondelete="SET NULL"),
                                                   index=True)
    venue: Mapped[str | None] = mapped_column(String(300))
    in_beijing: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    district: Mapped[District | None] = mapped_column(TitledEnum(District, 20), index=True)
    city: Mapped[str | None] = mapped_column(String(100))  # outside Beijing
    mode: Mapped[EventMode] = mapped_column(TitledEnum(EventMode, 20), default=EventMode.OFFLINE, nullable=False)
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    registration_open: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    discipline: Mapped[str | None] = mapped_column(String(40), index=True)  # a selection discipline key, or "other"
    filing_status: Mapped[FilingStatus] = mapped_column(TitledEnum(FilingStatus, 20),
                                                        default=FilingStatus.NOT_NEEDED, nullable=False)
    filing_document_path: Mapped[str | None] = mapped_column(String(300))  # under UPLOAD_DIR
    filing_document_name: Mapped[str | None] = mapped_column(String(255))
    filing_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    series_id: Mapped[int | None] = mapped_column(ForeignKey("salon_series.id", ondelete="SET NULL"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("salon_topic_proposals.id", ondelete="SET NULL"))
    core_topic: Mapped[str | None] = mapped_column(String(300))  # a salon session's core topic
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    edition = relationship("AcademicMonthEdition")
    series = relationship("SalonSeries", back_populates="sessions")
    topic = relationship("TopicProposal", back_populates="sessions")
    organisations = relationship("EventOrganisation", back_populates="event", cascade="all, delete-orphan",
                                 order_by="EventOrganisation.id")
    people = relationship("EventPerson", back_populates="event", cascade="all, delete-orphan",
                          order_by="(EventPerson.position, EventPerson.id)")

    @property
    def audit_label(self) -> str:
        return self.title_zh

    @property
    def host_organisation_ids(self) -> set[int]:
        """The organisations that host or co-host it: their users edit it."""
        return {link.organisation_id for link in self.organisations
                if link.role in (PastEventRole.HOST, PastEventRole.CO_HOST)}

    @property
    def running_organisation_ids(self) -> set[int]:
        """Every organisation that holds it (host, co-host, main organiser): their users check people in."""
        return {link.organisation_id for link in self.organisations}

    @property
    def speakers(self) -> list[EventPerson]:
        return [person for person in self.people if person.role == PersonRole.SPEAKER]


class EventOrganisation(db.Model):
    """An organisation's role in an event: host (主办), co-host (联合主办), main organiser (主要承办)."""

    __tablename__ = "event_organisations"
    __table_args__ = (UniqueConstraint("event_id", "organisation_id", name="uq_event_organisation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False,
                                                 index=True)
    role: Mapped[PastEventRole] = mapped_column(TitledEnum(PastEventRole, 20), nullable=False)

    event = relationship("Event", back_populates="organisations")
    organisation = relationship("Organisation")


class EventPerson(VersionedMixin, db.Model):
    """A person on an event's programme: a speaker with the talk, an initiator, a discussant ..."""

    __tablename__ = "event_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[PersonRole] = mapped_column(TitledEnum(PersonRole, 20), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(100))  # 职称 / position
    is_leading_figure: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # 领军人物
    leading_reason: Mapped[str | None] = mapped_column(String(500))  # why (academician, chief scientist ...)
    rank: Mapped[ExpertRank | None] = mapped_column(TitledEnum(ExpertRank, 20))
    is_keynote: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # 主旨报告
    talk_title: Mapped[str | None] = mapped_column(String(300))
    talk_minutes: Mapped[int | None] = mapped_column(Integer)
    on_site: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    event = relationship("Event", back_populates="people")


class RegistrationStatus(TitledStrEnum):
    CONFIRMED = "confirmed", _l("Confirmed")
    WAITLISTED = "waitlisted", _l("On the waiting list")
    CANCELLED = "cancelled", _l("Cancelled")


class RegistrationSource(TitledStrEnum):
    WEB = "web", _l("Registration form")
    API = "api", _l("API")
    IMPORT = "import", _l("Imported attendance")
    DEMO = "demo", _l("Demonstration data")


_ACTIVE = text("status != 'cancelled'")


class Registration(TimestampMixin, db.Model):
    """Someone's registration for an event; its ``code`` is what the QR code carries."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        # One live registration per person and event (by phone, and by e-mail).
        Index("uq_registration_event_phone", "event_id", "phone", unique=True,
              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
        Index("uq_registration_event_email", "event_id", "email", unique=True,
              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
        Index("ix_registration_event_status", "event_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    status: Mapped[RegistrationStatus] = mapped_column(TitledEnum(RegistrationStatus, 20), nullable=False)
    source: Mapped[RegistrationSource] = mapped_column(TitledEnum(RegistrationSource, 20),
                                                       default=RegistrationSource.WEB, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    organisation: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))  # mainland mobile, 11 digits
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN", nullable=False)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event = relationship("Event")
    check_in = relationship("CheckIn", back_populates="registration", uselist=False)

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def running_organisation_ids(self) -> set[int]:
        """A registration is run by whoever runs its event (``events.run`` on it)."""
        return self.event.running_organisation_ids


class CheckInMethod(TitledStrEnum):
    SCAN = "scan", _l("QR code scanned")
    SEARCH = "search", _l("Found by name or phone")
    API = "api", _l("Scanner device (API)")
    IMPORT = "import", _l("Imported attendance")


class CheckIn(db.Model):
    """A registration checked in at its event; at most one per registration (twice counts once)."""

    __tablename__ = "event_checkins"
    __table_args__ = (UniqueConstraint("registration_id", name="uq_checkin_registration"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("event_registrations.id", ondelete="CASCADE"),
                                                 nullable=False)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    method: Mapped[CheckInMethod] = mapped_column(TitledEnum(CheckInMethod, 20), nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    registration = relationship("Registration", back_populates="check_in")


class RoundStatus(TitledStrEnum):
    NOMINATING = "nominating", _l("Nominating")
    SCORING = "scoring", _l("Scoring")
    CLOSED = "closed", _l("Closed")


class InfluenceRound(TimestampMixin, AuditedMixin, db.Model):
    """A year's selection of the Top-10 influential academic conferences (十佳影响力学术会议).

    ``criteria`` is data: ``[{"code": "academic_value", "name_zh": ..., "name_en": ..., "weight": 0.3}, ...]``.
    """

    __tablename__ = "influence_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    status: Mapped[RoundStatus] = mapped_column(TitledEnum(RoundStatus, 20), default=RoundStatus.NOMINATING,
                                                nullable=False)
    criteria: Mapped[list] = mapped_column(JSON, nullable=False)
    winners: Mapped[int] = mapped_column(Integer, default=10, nullable=False)

    nominations = relationship("InfluenceNomination", back_populates="round", cascade="all, delete-orphan",
                               order_by="InfluenceNomination.id")
    reviewers = relationship("InfluenceReviewer", back_populates="round", cascade="all, delete-orphan")

    @property
    def audit_label(self) -> str:
        return str(self.year)


class InfluenceReviewer(db.Model):
    """An expert who scores the nominations of a round."""

    __tablename__ = "influence_reviewers"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_influence_reviewer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("influence_rounds.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)

    round = relationship("InfluenceRound", back_populates="reviewers")
    user = relationship("User")


class InfluenceNomination(TimestampMixin, AuditedMixin, db.Model):
    """A recorded conference nominated in a round, with why."""

    __tablename__ = "influence_nominations"
    __table_args__ = (UniqueConstraint("round_id", "event_id", name="uq_influence_nomination"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("influence_rounds.id", ondelete="CASCADE"), nullable=False)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"), nullable=False, index=True)
    reason: Mapped[str | None] = mapped_column(Text)

    round = relationship("InfluenceRound", back_populates="nominations")
    event = relationship("Event")
    scores = relationship("InfluenceScore", back_populates="nomination", cascade="all, delete-orphan")

    @property
    def audit_label(self) -> str:
        return self.event.title_zh


class InfluenceScore(db.Model):
    """One expert's score (1 to 10) of one nomination on one criterion."""

    __tablename__ = "influence_scores"
    __table_args__ = (UniqueConstraint("nomination_id", "reviewer_id", "criterion", name="uq_influence_score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("influence_nominations.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion: Mapped[str] = mapped_column(String(40), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    nomination = relationship("InfluenceNomination", back_populates="scores")
