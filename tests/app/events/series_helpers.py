"""Factories of the series and attendance tests: series, topics, sessions with their people,
attendance rows, and Excel files to import. Like the conftest factories they write rows
directly and commit, without the services (those are what the tests exercise)."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta

from openpyxl import Workbook

from conference_app.core.db import utcnow
from conference_app.events.models import (
    CheckIn,
    CheckInMethod,
    Event,
    EventOrganisation,
    EventPerson,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    SalonSeries,
    TopicProposal,
)
from conference_app.extensions import db

_numbers = itertools.count(1)
TEMPLATE_HEADERS = ["姓名（必填）", "工作单位", "职称/职务", "手机号", "电子邮箱", "签到时间（YYYY-MM-DD HH:MM）"]


def make_series(organisation, **fields) -> SalonSeries:
    """A salon series of ``organisation`` for this year, with a committee of two."""
    n = next(_numbers)
    values = {
        "year": utcnow().year,
        "title_zh": f"测试沙龙系列{n}",
        "topic_mechanism": "每季度向会员征集选题，选题委员会投票确定。",
        "committee": "张明\n李红",
        "venue": "北京科学中心报告厅",
        "district": "haidian",
    }
    values.update(fields)
    series = SalonSeries(organisation=organisation, **values)
    db.session.add(series)
    db.session.commit()
    return series


def make_topic(series, title: str | None = None, status: str = "chosen") -> TopicProposal:
    topic = TopicProposal(series=series, title=title or f"选题{next(_numbers)}", rationale="前沿问题",
                          proposed_by="会员", status=status)
    db.session.add(topic)
    db.session.commit()
    return topic


def make_session(series, starts_at: datetime, *, status: str = "published", discussants: int = 2,
                 **fields) -> Event:
    """A salon session of the series hosted by its organisation, with an initiator and discussants."""
    n = next(_numbers)
    values = {"kind": "salon_session", "status": status, "title_zh": f"沙龙第{n}期", "starts_at": starts_at,
              "ends_at": starts_at + timedelta(hours=2), "venue": series.venue, "in_beijing": True,
              "district": "haidian", "mode": "offline", "series_id": series.id, "core_topic": f"核心议题{n}"}
    values.update(fields)
    event = Event(**values)
    event.organisations = [EventOrganisation(organisation_id=series.organisation_id, role="host")]
    event.people = [EventPerson(role="initiator", name=f"发起人{n}")] + [
        EventPerson(role="discussant", name=f"研讨人{n}-{k}", position=k) for k in range(1, discussants + 1)]
    db.session.add(event)
    db.session.commit()
    return event


def check_in_people(event, count: int, *, method: str = CheckInMethod.SCAN, at: datetime | None = None) -> None:
    """``count`` confirmed registrations of the event, each checked in."""
    for _ in range(count):
        n = next(_numbers)
        registration = Registration(event=event, code=f"T{n:09d}", status=RegistrationStatus.CONFIRMED,
                                    source=RegistrationSource.IMPORT if method == CheckInMethod.IMPORT
                                    else RegistrationSource.WEB,
                                    name=f"参会者{n}", phone=f"139{n:08d}")
        db.session.add(registration)
        db.session.flush()
        db.session.add(CheckIn(event_id=event.id, registration_id=registration.id, method=method,
                               checked_in_at=at or event.starts_at + timedelta(minutes=10)))
    db.session.commit()


def attendance_file(rows: list[list], headers: list[str] | None = None) -> bytes:
    """An .xlsx with the template's headers (or ``headers``) and ``rows``."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or TEMPLATE_HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
