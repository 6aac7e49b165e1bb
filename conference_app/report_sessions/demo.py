"""The demo's report sessions, built through the services from the demo panel's locked 20: one of
the 29th Academic Month, replayed at its dates (started the day the results were locked, the
speakers and guests invited and answering, published, a talk lengthened and the programme
published again, held), and one of the 30th in progress (started the day the demo loads: some
speakers accepted, one declined, the others and the guest not answered yet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.core.db import clock_at
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING
from conference_app.events.models import AcademicMonthEdition, EventStatus
from conference_app.events.services import events as event_services
from conference_app.extensions import db
from conference_app.programs.models import Application
from conference_app.report_sessions.models import ReportSession, SlotKind
from conference_app.report_sessions.services import invitations, publishing, sessions

PUBLISHED_TALKS = 6  # results 1-6 in the 29th month's session
IN_PROGRESS_TALKS = range(7, 13)  # results 7-12 in the 30th's
GUEST_BY_HAND = ("钱立新", "中国科学院院士，中国科学院物理研究所", "qian.lixin@demo.bast.example.cn")


@dataclass
class DemoReportSessions:
    published: int = 0
    in_progress: int = 0
    versions: int = 0
    invitations: int = 0


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


def _organiser(project: Application) -> User:
    """The project's society's first user: the organiser of its sessions."""
    return db.session.scalar(select(User).where(User.organisation_id == project.organisation_id,
                                                User.role == Role.SOCIETY).order_by(User.id))


def _project() -> Application | None:
    """The first funded category-F project whose society has a user."""
    for project in db.session.scalars(select(Application).order_by(Application.id)):
        if sessions.holds_report_sessions(project) and _organiser(project) is not None:
            return project
    return None


def _speaker_email(session_id: int, position: int) -> str:
    return f"speaker{session_id}-{position:02d}@demo.bast.example.cn"


def _talks(session: ReportSession, positions, organiser: User) -> list:
    """Talks on the results at ``positions`` (1-based, the panel's order) with a break after the third."""
    results = sessions.speaker_candidates(session)
    slots = []
    for number, position in enumerate(positions, start=1):
        slots.append(sessions.add_talk(session, results[position - 1].candidate.id, minutes=20, actor=organiser))
        if number == 3:
            sessions.add_block(session, SlotKind.BREAK, minutes=10, title="茶歇", actor=organiser)
    sessions.add_block(session, SlotKind.DISCUSSION, minutes=30, title="与交流嘉宾对话", actor=organiser)
    return slots


def _invite_speakers(session: ReportSession, slots, organiser: User) -> list:
    """Each talk's first listed Beijing author (the first or corresponding author)."""
    by_candidate = {found.candidate.id: found for found in sessions.speaker_candidates(session)}
    invited = []
    for slot in slots:
        author = by_candidate[slot.candidate_id].authors[0]
        invited.append(invitations.invite_speaker(slot, author.index, email=_speaker_email(session.id, slot.position),
                                                  actor=organiser))
    return invited


def _answer(invitation, attendance: str = "on_site") -> None:
    invitations.accept(invitations.invitation_token(invitation), attendance)


def load_report_sessions() -> DemoReportSessions:
    """Add the two demo sessions (flushed, not committed); nothing when a session exists, or when
    the demo has no locked panel or no category-F project to hold them."""
    world = DemoReportSessions()
    if db.session.scalar(select(func.count()).select_from(ReportSession)):
        return world
    panels = sessions.locked_panels()
    project = _project()
    editions = {edition.number: edition for edition in db.session.scalars(select(AcademicMonthEdition))}
    if not panels or project is None or not {29, 30} <= set(editions):
        return world
    panel, organiser = panels[0], _organiser(project)
    experts = list(db.session.scalars(select(User).where(User.role == Role.EXPERT).order_by(User.id).limit(3)))
    staff = db.session.scalar(select(User).where(User.role == Role.STAFF).order_by(User.id))
    _published_session(project, editions[29], panel, organiser, experts, staff, world)
    _session_in_progress(project, editions[30], panel, organiser, experts, world)
    return world


def _published_session(project, edition, panel, organiser, experts, staff, world: DemoReportSessions) -> None:
    day = date(2026, 11, 28)
    with clock_at(_at(date(2026, 11, 26), 17)):
        session = sessions.create_session(project, edition, panel, {
            "title_zh": f"第二十九届北京科技交流学术月·首都前沿学术成果报告会（{panel.name.removesuffix('前沿成果评审专家组')}）",
            "starts_at": _at(day, 9), "ends_at": _at(day, 12), "venue": "北京科学中心报告厅（西城区北辰路9号）",
            "district": "xicheng", "capacity": 300, "moderator_name": "周明远", "moderator_institution": "北京大学",
        }, actor=organiser)
        slots = _talks(session, range(1, PUBLISHED_TALKS + 1), organiser)
        speakers = _invite_speakers(session, slots, organiser)
        guests = [invitations.invite_guest(session, user=expert, actor=organiser) for expert in experts[:1]]
        name, institution, email = GUEST_BY_HAND
        guests.append(invitations.invite_guest(session, name=name, institution=institution, email=email,
                                               actor=organiser))
    with clock_at(_at(date(2026, 11, 27), 10)):
        for number, invitation in enumerate(speakers):
            _answer(invitation, "remote" if number == len(speakers) - 1 else "on_site")
        for invitation in guests:
            _answer(invitation)
    with clock_at(_at(date(2026, 11, 27), 15)):
        publishing.publish(session, actor=organiser)
    with clock_at(_at(date(2026, 11, 27), 18)):
        sessions.update_slot(slots[1], {"minutes": 25}, actor=organiser)
        publishing.publish(session, actor=organiser)
    if session.event.status == EventStatus.PUBLISHED:
        with clock_at(_at(day, 12, 30)):
            event_services.change_state(session.event, "mark_held", actor=staff)
    world.published += 1
    world.versions += len(session.versions)
    world.invitations += len(session.invitations)


def _session_in_progress(project, edition, panel, organiser, experts, world: DemoReportSessions) -> None:
    """Dated now: its invitations are open and their links work."""
    day = date(edition.year, 10, 20)
    session = sessions.create_session(project, edition, panel, {
        "title_zh": f"第三十届北京科技交流学术月·首都前沿学术成果报告会（{panel.name.removesuffix('前沿成果评审专家组')}）",
        "starts_at": _at(day, 14), "ends_at": _at(day, 17, 30), "venue": "中关村国家自主创新示范区展示中心会议厅",
        "district": "haidian", "capacity": 200, "moderator_name": "周明远", "moderator_institution": "北京大学",
    }, actor=organiser)
    slots = _talks(session, IN_PROGRESS_TALKS, organiser)
    speakers = _invite_speakers(session, slots, organiser)
    _answer(speakers[0])
    _answer(speakers[1])
    invitations.decline(invitations.invitation_token(speakers[2]), note="届时在国外参加学术会议，无法出席。")
    if len(experts) > 1:
        invitations.invite_guest(session, user=experts[1], actor=organiser)
    db.session.flush()
    world.in_progress += 1
    world.invitations += len(session.invitations)
