"""Report sessions, their timetable, invitations and published programme versions.

A ``ReportSession`` **is** an event of the events domain (one-to-one with ``Event``, kind
report session): the date, time, venue, capacity, host and co-hosts live on the event, which
takes registrations and check-ins and shows in the calendar like any other. The session adds
what the lineup needs: the category-F project and the Academic Month edition it belongs to,
the expert panel whose locked results give the talks, the moderator, the ordered slots
(talks and blocks), the invitations, and the programme versions released so far.

Talks name the panel's result by its candidate (``selection_candidates.id``): the panel
rewrites its ``PanelResult`` rows when it locks again, the candidates stay.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference_app.core.db import AuditedMixin, TimestampMixin, TitledEnum, UTCDateTime, VersionedMixin, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db


class ReportSessionStatus(TitledStrEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = "published", _l("Published")


class SlotKind(TitledStrEnum):
    TALK = "talk", _l("Talk")
    QA = "qa", _l("Questions and answers")
    DISCUSSION = "discussion", _l("Discussion with the guests")
    BREAK = "break", _l("Break")


class InvitationRole(TitledStrEnum):
    SPEAKER = "speaker", _l("Speaker")
    GUEST = "guest", _l("Discussion guest")


class InvitationStatus(TitledStrEnum):
    INVITED = "invited", _l("Invited, awaiting an answer")
    ACCEPTED = "accepted", _l("Accepted")
    DECLINED = "declined", _l("Declined")
    EXPIRED = "expired", _l("No answer by the deadline")
    WITHDRAWN = "withdrawn", _l("Withdrawn by the organisers")


# An invitation in one of these states holds its slot (and its invitee's place in the session).
LIVE_STATES = frozenset({InvitationStatus.INVITED, InvitationStatus.ACCEPTED})


class Attendance(TitledStrEnum):
    """How an invitee who accepted takes part (chosen when accepting)."""

    ON_SITE = "on_site", _l("On site, in person")
    REMOTE = "remote", _l("Remotely, online")


class ReportSession(TimestampMixin, AuditedMixin, VersionedMixin, db.Model):
    """A frontier-results report session: an event plus its project, edition, panel and lineup."""

    __tablename__ = "report_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"), unique=True, nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("program_applications.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("academic_month_editions.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="RESTRICT"), nullable=False, index=True)
    status: Mapped[ReportSessionStatus] = mapped_column(TitledEnum(ReportSessionStatus, 20), nullable=False,
                                                        default=ReportSessionStatus.DRAFT)
    moderator_name: Mapped[str | None] = mapped_column(String(100))
    moderator_institution: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event = relationship("Event")
    project = relationship("Application")
    edition = relationship("AcademicMonthEdition")
    panel = relationship("Panel")
    slots = relationship("Slot", back_populates="session", cascade="all, delete-orphan",
                         order_by="(Slot.position, Slot.id)")
    invitations = relationship("Invitation", back_populates="session", cascade="all, delete-orphan",
                               order_by="Invitation.id")
    versions = relationship("ProgrammeVersion", back_populates="session", cascade="all, delete-orphan",
                            order_by="ProgrammeVersion.number")

    @property
    def owner_organisation_id(self) -> int:
        """The society of the project organises the session."""
        return self.project.organisation_id

    @property
    def audit_label(self) -> str:
        return self.event.title_zh if self.event is not None else str(self.id)


class Slot(VersionedMixin, db.Model):
    """One entry of the timetable, in order: a talk on one of the panel's results, or a block
    (questions and answers, discussion with the guests, a break). Times are not stored: the
    timetable lays the slots out from the event's start (``report_sessions.timetable``)."""

    __tablename__ = "report_session_slots"
    __table_args__ = (UniqueConstraint("session_id", "candidate_id", name="uq_report_session_slot_result"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("report_sessions.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[SlotKind] = mapped_column(TitledEnum(SlotKind, 20), nullable=False)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str | None] = mapped_column(String(300))  # a talk: None for the result's title
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("selection_candidates.id", ondelete="RESTRICT"))

    session = relationship("ReportSession", back_populates="slots")
    candidate = relationship("Candidate")
    invitations = relationship("Invitation", back_populates="slot", order_by="Invitation.id")

    @property
    def owner_organisation_id(self) -> int:
        return self.session.owner_organisation_id


_LIVE = text("status IN ('invited', 'accepted')")


class Invitation(TimestampMixin, AuditedMixin, db.Model):
    """An invitation to speak on a talk (a result's author) or to join as a discussion guest
    (an expert account, or a person typed in). The invitee answers through a personal link:
    a signed token naming this invitation and its ``token_nonce`` (``services.invitations``)."""

    __tablename__ = "report_session_invitations"
    __table_args__ = (
        # One live invitation per talk, and per person (e-mail) and session.
        Index("uq_report_invitation_live_slot", "slot_id", unique=True,
              sqlite_where=_LIVE, postgresql_where=_LIVE),
        Index("uq_report_invitation_live_email", "session_id", "email", unique=True,
              sqlite_where=_LIVE, postgresql_where=_LIVE),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("report_sessions.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    role: Mapped[InvitationRole] = mapped_column(TitledEnum(InvitationRole, 20), nullable=False)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("report_session_slots.id", ondelete="SET NULL"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("selection_candidates.id", ondelete="RESTRICT"))
    author_index: Mapped[int | None] = mapped_column(Integer)  # the speaker's place in the work's authorships
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    institution: Mapped[str | None] = mapped_column(String(300))
    locale: Mapped[str] = mapped_column(String(10), nullable=False, default="zh_CN")
    status: Mapped[InvitationStatus] = mapped_column(TitledEnum(InvitationStatus, 20), nullable=False,
                                                     default=InvitationStatus.INVITED)
    attendance: Mapped[Attendance | None] = mapped_column(TitledEnum(Attendance, 20))
    deadline: Mapped[date] = mapped_column(Date, nullable=False)  # a Beijing day: answers are taken through it
    token_nonce: Mapped[str] = mapped_column(String(32), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)  # sent, or sent again
    reminders_sent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_note: Mapped[str | None] = mapped_column(Text)  # what the invitee wrote with the answer
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session = relationship("ReportSession", back_populates="invitations")
    slot = relationship("Slot", back_populates="invitations")
    candidate = relationship("Candidate")
    user = relationship("User", foreign_keys=[user_id])

    @property
    def owner_organisation_id(self) -> int:
        return self.session.owner_organisation_id

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATES

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.role.title})"


class ProgrammeVersion(db.Model):
    """A released programme: the timetable and its people frozen as JSON when the session was
    published (version 1) or published again after a change (2, 3 ...), as pretalx releases
    its schedules. ``notified`` lists the invitations told of the change, by kind."""

    __tablename__ = "report_session_versions"
    __table_args__ = (UniqueConstraint("session_id", "number", name="uq_report_session_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("report_sessions.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    programme: Mapped[dict] = mapped_column(JSON, nullable=False)
    notified: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session = relationship("ReportSession", back_populates="versions")
    created_by = relationship("User")
