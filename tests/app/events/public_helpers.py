"""Building blocks of the public pages' tests: an Academic Month edition around the coming
weeks, events with their programme, and posting the registration form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from conference_app.core.db import utcnow
from conference_app.core.timeutil import beijing_date, day_start
from conference_app.events.models import AcademicMonthEdition, EventPerson
from conference_app.extensions import db
from tests.app.helpers import csrf_token


def make_edition(number: int = 29, days_before: int = 10, days_after: int = 50) -> AcademicMonthEdition:
    """An edition running from ``days_before`` days ago to ``days_after`` days from now (Beijing dates)."""
    today = beijing_date(utcnow())
    edition = AcademicMonthEdition(number=number, year=(today - timedelta(days=days_before)).year,
                                   starts_on=today - timedelta(days=days_before),
                                   ends_on=today + timedelta(days=days_after))
    db.session.add(edition)
    db.session.commit()
    return edition


@pytest.fixture()
def edition29(app) -> AcademicMonthEdition:
    """The 29th Academic Month, 2026-10-01 to 2026-11-30 (import it into a test module to use it)."""
    edition = AcademicMonthEdition(number=29, year=2026, starts_on=date(2026, 10, 1), ends_on=date(2026, 11, 30))
    db.session.add(edition)
    db.session.commit()
    return edition


def add_people(event, people: list[dict]) -> None:
    """Put people on an event's programme (each a dict of EventPerson fields; speakers by default)."""
    for position, fields in enumerate(people):
        db.session.add(EventPerson(event=event, position=position, **({"role": "speaker"} | fields)))
    db.session.commit()


def post_registration(client, event, **fields):
    """Post the event page's registration form (with its CSRF token)."""
    token = csrf_token(client, f"/events/{event.id}")
    return client.post(f"/events/{event.id}/register", data={"csrf_token": token, **fields})


SALON_TITLE = "面向量子计算的新型材料学术沙龙"
SALON_SPEAKER = "欧阳明远"


def build_calendar_world() -> dict:
    """A small Academic Month for the journeys: an edition around today; a salon session of a
    series (its title holds the word 量子, its speaker is 欧阳明远) in three days; a conference
    next week with a leading-figure speaker; a cancelled report session; a draft nobody sees.
    Written straight to the database, as the factories do; returns the ids."""
    from conference_app.events.models import Event, EventOrganisation, SalonSeries
    from conference_app.organisations.credit_code import make_credit_code
    from conference_app.organisations.models import Organisation

    edition = make_edition()
    society = Organisation(name_zh="北京材料研究学会", name_en="Beijing Materials Research Society", org_type="society",
                           credit_code=make_credit_code("51110000500009001"), status="approved")
    university = Organisation(name_zh="北京理工大学科协", org_type="university_association",
                              credit_code=make_credit_code("51110000500009002"), status="approved")
    series = SalonSeries(organisation=society, year=edition.year, title_zh="材料前沿交叉学术沙龙",
                         topic_mechanism="会员征集选题，学术委员会遴选", venue="北京科学中心", district="xicheng")
    start = day_start(beijing_date(utcnow()) + timedelta(days=3)) + timedelta(hours=14)  # 14:00 Beijing time

    def event(title_zh, starts_at, organisations, **fields):
        values = {"kind": "salon_session", "status": "published", "venue": "北京科学中心", "in_beijing": True,
                  "district": "xicheng", "mode": "offline", "edition_id": edition.id} | fields
        item = Event(title_zh=title_zh, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), **values)
        item.organisations = [EventOrganisation(organisation=org, role=role) for org, role in organisations]
        db.session.add(item)
        return item

    salon = event(SALON_TITLE, start, [(society, "host"), (university, "co_host")], series=series,
                  title_en="New materials for quantum computing", capacity=30, discipline="materials_science",
                  core_topic="拓扑量子材料的制备难题", agenda="14:00 引导发言\n14:30 主题研讨\n16:00 总结")
    conference = event("第五届京津冀先进制造学术会议", start + timedelta(days=5), [(university, "host")],
                       kind="regional", venue="北京国际会议中心", district="chaoyang", mode="hybrid",
                       online_url="https://meeting.example.cn/5", capacity=300, discipline="engineering_mechanics")
    cancelled = event("柔性电子报告会", start + timedelta(days=1), [(society, "host")], kind="report_session",
                      status="cancelled")
    draft = event("尚未发布的量子沙龙", start + timedelta(days=2), [(society, "host")], status="draft")
    db.session.flush()
    add_people(salon, [
        {"role": "initiator", "name": "张海峰", "organisation": "北京材料研究学会", "title": "研究员"},
        {"name": SALON_SPEAKER, "organisation": "清华大学", "title": "教授", "talk_title": "拓扑超导体的生长",
         "talk_minutes": 30, "is_leading_figure": True, "leading_reason": "中国科学院院士"},
        {"role": "discussant", "name": "陈静", "organisation": "北京大学", "title": "副教授"},
        {"role": "discussant", "name": "刘洋", "organisation": "中国科学院物理研究所", "title": "研究员"},
    ])
    add_people(conference, [{"name": "赵立新", "organisation": "北京理工大学", "talk_title": "智能制造中的力学问题",
                             "talk_minutes": 45}])
    return {"edition": edition.id, "salon": salon.id, "conference": conference.id, "cancelled": cancelled.id,
            "draft": draft.id, "society": society.id}
