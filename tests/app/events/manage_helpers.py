"""Fixtures and helpers of the events management and check-in tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.events.models import CheckIn, Event, EventOrganisation, EventPerson, Registration
from conference_app.events.services import registrations
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token

COUNTED = (Event, EventOrganisation, EventPerson, Registration, CheckIn, AuditEntry)


def row_counts() -> dict[str, int]:
    """How many rows the tables an event page can write hold (to prove nothing was written)."""
    db.session.expire_all()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def event_form(organisations: list[tuple[int, str]], **overrides) -> dict:
    """A valid event form as a browser posts it: a salon in Haidian in October 2026."""
    data = {
        "kind": "salon_session",
        "title_zh": "人工智能与科学发现沙龙",
        "title_en": "AI for Science Salon",
        "starts_at": "2026-10-15T14:00",
        "ends_at": "2026-10-15T17:30",
        "mode": "offline",
        "venue": "北京科学中心报告厅",
        "in_beijing": "y",
        "district": "haidian",
        "city": "",
        "online_url": "",
        "capacity": "80",
        "registration_open": "y",
        "discipline": "information_science",
        "core_topic": "",
        "description": "探讨人工智能驱动的科学研究范式。",
        "agenda": "14:00 开场\n14:10 报告",
    }
    for index, (organisation_id, role) in enumerate(organisations):
        data[f"organisations-{index}-organisation_id"] = str(organisation_id)
        data[f"organisations-{index}-role"] = role
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def person_form(**overrides) -> dict:
    data = {"role": "speaker", "name": "张院士", "organisation": "清华大学", "title": "教授", "is_leading_figure": "y",
            "leading_reason": "中国科学院院士", "talk_title": "科学智能的前沿", "talk_minutes": "45", "on_site": "y",
            "position": "1"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post(client, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    """POST a form with a CSRF token taken from ``page`` (default: the home page)."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, page or "/home")
    return client.post(url, data=data, **kwargs)


def sign_up(event, name: str, phone: str) -> Registration:
    """A registration for ``event``, committed."""
    registration = registrations.register(event, {"name": name, "phone": phone})
    db.session.commit()
    return registration


@dataclass
class Society:
    """A society user logged in, its organisation, and another organisation's user and event."""

    user: object
    organisation: object
    other: object


@pytest.fixture()
def society(client, make_user, make_organisation) -> Society:
    organisation = make_organisation(name_zh="北京人工智能学会")
    user = make_user(Role.SOCIETY, organisation=organisation, name="赵秘书长")
    other = make_organisation(name_zh="北京化学会")
    log_in_session(client, user)
    return Society(user, organisation, other)


@pytest.fixture()
def staff(client, make_user):
    user = make_user(Role.STAFF, name="王学会部")
    log_in_session(client, user)
    return user
