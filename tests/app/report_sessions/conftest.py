"""The world of a report session: the 2026 call open with a funded category-F project of a
society (and its organiser), an Academic Month edition from three weeks on, and an expert
panel of physics with its 20 frontier results locked.

The panel is written as rows (round, candidates with known authorships, a locked panel and its
results), not reviewed through three rounds as ``tests/app/panels`` does (that takes a ranking
of 9,000 works and every review): these tests need authors they can name, and the panels'
own tests prove how results come to be locked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from conference_app.accounts.models import User
from conference_app.core.db import unit_of_work, utcnow
from conference_app.core.permissions import Role
from conference_app.core.timeutil import BEIJING, beijing_today
from conference_app.events.models import AcademicMonthEdition
from conference_app.extensions import db
from conference_app.organisations.models import Organisation
from conference_app.panels.models import Candidate, Panel, PanelResult, SelectionRound
from conference_app.programs.models import Application
from conference_app.report_sessions.models import Invitation, ReportSession, Slot
from conference_app.report_sessions.services import invitations, sessions
from tests.app.programs.helpers import category, open_call

_numbers = itertools.count(1)


def authorships(n: int) -> list[dict]:
    """Result ``n``'s authors in the work's order: a Beijing middle author, the Beijing first
    author, a foreign author, the Beijing corresponding (last) author."""
    def author(name, position, corresponding, institution, beijing):
        return {"author_id": f"A{n:03d}{name[-1]}", "name": name, "orcid": None, "position": position,
                "is_corresponding": corresponding, "institution_ids": [f"I{n}"], "lineage_ids": [f"I{n}"],
                "institution_names": [institution], "is_beijing": beijing}

    return [author(f"李{n}中", "middle", False, "北京大学", True),
            author(f"王{n}首", "first", False, "清华大学", True),
            author(f"Smith {n}", "middle", False, "MIT", False),
            author(f"张{n}通", "last", True, "中国科学院物理研究所", True)]


MIDDLE, FIRST, FOREIGN, CORRESPONDING = 0, 1, 2, 3


def locked_panel(results: int = 20) -> Panel:
    """A physics panel with ``results`` frontier results locked, result n on candidate "W000n"."""
    n = next(_numbers)
    selection_round = SelectionRound(name=f"测试轮次{n}", source_folder="out", candidates_sha256=f"{n:064d}",
                                     candidate_count=results, summary={}, settings={}, charts_dir="x")
    db.session.add(selection_round)
    db.session.flush()
    candidates = [Candidate(round=selection_round, work_id=f"W{n}{i:04d}", discipline="physics",
                            journal_group="international", rank=i, score=100 - i, stratum_works=300, score_parts=[],
                            title=f"前沿成果{i}：拓扑量子材料", doi=f"10.1000/{n}.{i}", source_name="Physical Review X",
                            publication_year=2024, beijing_first=True, beijing_corresponding=True,
                            authorships=authorships(i)) for i in range(1, results + 1)]
    db.session.add_all(candidates)
    panel = Panel(round=selection_round, discipline="physics", name=f"物理学专家组{n}", status="locked",
                  locked_at=utcnow())
    db.session.add(panel)
    db.session.flush()
    db.session.add_all([PanelResult(panel_id=panel.id, candidate_id=candidate.id, position=i,
                                    justification=f"理由{i}", votes=5) for i, candidate in enumerate(candidates, 1)])
    db.session.commit()
    return panel


@dataclass
class World:
    society: Organisation
    organiser: User
    staff: User
    project: Application
    edition: AcademicMonthEdition
    panel: Panel

    @property
    def first_day(self) -> date:
        return self.edition.starts_on


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


@pytest.fixture()
def world(app, make_organisation, make_user) -> World:
    call = open_call()
    society = make_organisation(name_zh="中国物理学会北京分会")
    organiser = make_user(Role.SOCIETY, organisation=society, name="组织者")
    project = Application(call_id=call.id, category_id=category(call, "F").id, organisation_id=society.id,
                          status="in_progress", project_name_zh="首都前沿学术成果报告会（物理学）",
                          requested_fen=8_000_000)
    start = beijing_today() + timedelta(days=20)
    edition = AcademicMonthEdition(number=29, year=start.year, starts_on=start, ends_on=start + timedelta(days=50))
    db.session.add_all([project, edition])
    db.session.commit()
    return World(society, organiser, make_user(Role.STAFF), project, edition, locked_panel())


def make_session(world: World, *, day_offset: int = 5, hour: int = 9, hours: int = 4, venue: str = "北京科学中心报告厅",
                 district: str = "haidian", title: str | None = None, project=None, actor=None,
                 moderator: str | None = "赵主持") -> ReportSession:
    """A draft session ``day_offset`` days into the edition, from ``hour`` for ``hours``.

    The helpers below act as requests do, each in a unit of work: the audit guard checks that
    every step leaves its audit entry."""
    day = world.first_day + timedelta(days=day_offset)
    with unit_of_work():
        session = sessions.create_session(
            project or world.project, world.edition, world.panel,
            {"title_zh": title or f"首都前沿学术成果报告会{next(_numbers)}", "starts_at": at(day, hour),
             "ends_at": at(day, hour + hours), "venue": venue, "district": district, "capacity": 200,
             "moderator_name": moderator, "moderator_institution": "北京大学" if moderator else None},
            actor=actor or world.organiser)
    return session


def result_candidate(world: World, position: int) -> Candidate:
    return next(result.candidate for result in world.panel.results if result.position == position)


def add_talks(session: ReportSession, world: World, positions, minutes: int = 20) -> list[Slot]:
    with unit_of_work():
        slots = [sessions.add_talk(session, result_candidate(world, position).id, minutes=minutes,
                                   actor=world.organiser) for position in positions]
    return slots


def invite(slot: Slot, world: World, author: int = FIRST, email: str | None = None) -> Invitation:
    with unit_of_work():
        invitation = invitations.invite_speaker(slot, author, email=email or f"speaker{next(_numbers)}@example.cn",
                                                actor=world.organiser)
    return invitation


def invite_guest(session: ReportSession, world: World, **fields) -> Invitation:
    fields.setdefault("name", "钱嘉宾")
    fields.setdefault("email", f"guest{next(_numbers)}@example.cn")
    fields.setdefault("institution", "中国科学院")
    with unit_of_work():
        invitation = invitations.invite_guest(session, actor=world.organiser, **fields)
    return invitation


def accept(invitation: Invitation, attendance: str = "on_site"):
    with unit_of_work():
        answer = invitations.accept(invitations.invitation_token(invitation), attendance)
    return answer


def ready_session(world: World, speakers: int = 4, **fields) -> tuple[ReportSession, list[Invitation], Invitation]:
    """A session with ``speakers`` talks whose first authors accepted on site, a discussion block
    and a guest who accepted."""
    session = make_session(world, **fields)
    slots = add_talks(session, world, range(1, speakers + 1))
    with unit_of_work():
        sessions.add_block(session, "discussion", minutes=30, actor=world.organiser)
    invited = [invite(slot, world) for slot in slots]
    for invitation in invited:
        accept(invitation)
    guest = invite_guest(session, world)
    accept(guest)
    return session, invited, guest
