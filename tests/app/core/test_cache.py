"""The micro-cache of public page parts: shared by every visitor for a few seconds, never a
user's own content, off at 0."""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest

from conference_app.core import cache as cache_module
from conference_app.core.cache import public_pages
from conference_app.core.permissions import Role
from conference_app.events.models import AcademicMonthEdition, SalonSeries
from conference_app.extensions import db
from tests.app.conftest import log_in_session


@pytest.fixture()
def cached(app, monkeypatch):
    """The cache on (5 s) with a clock the test moves."""
    clock = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 5
    public_pages.clear()
    yield clock
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 0
    public_pages.clear()


@pytest.fixture()
def edition(app):
    edition = AcademicMonthEdition(number=29, year=2026, starts_on=date(2026, 10, 1), ends_on=date(2026, 11, 30))
    db.session.add(edition)
    db.session.commit()
    return edition


def at(day: int) -> datetime:
    return datetime(2026, 10, day, 6, tzinfo=timezone.utc)


def test_the_calendar_list_is_shared_for_a_few_seconds_then_fresh(client, cached, edition, make_event):
    make_event(title_zh="第一场沙龙", edition_id=edition.id, starts_at=at(10))
    assert "第一场沙龙" in client.get("/academic-month/?edition=29").get_data(as_text=True)
    make_event(title_zh="第二场沙龙", edition_id=edition.id, starts_at=at(12))
    stale = client.get("/academic-month/?edition=29").get_data(as_text=True)
    assert "第二场沙龙" not in stale  # the list is at most 5 s old ...
    cached[0] += 5.1
    assert "第二场沙龙" in client.get("/academic-month/?edition=29").get_data(as_text=True)  # ... then fresh
    # Other filters, another language or another page are other entries.
    assert "第二场沙龙" not in client.get("/academic-month/?edition=29&q=第一").get_data(as_text=True)


def test_the_cached_part_holds_nothing_of_a_visitor(client, cached, edition, make_event, make_user):
    make_event(title_zh="公开沙龙", edition_id=edition.id, starts_at=at(10))
    first = client.get("/academic-month/?edition=29").get_data(as_text=True)
    other = client.application.test_client()
    log_in_session(other, make_user(Role.STAFF, name="王学会"))
    second = other.get("/academic-month/?edition=29").get_data(as_text=True)
    body = second[second.index('data-testid="calendar-views"'):]
    assert "王学会" in second and "王学会" not in body  # the name is in the page's own parts only
    tokens = [part.split('"')[0] for part in second.split('name="csrf-token" content="')[1:]]
    assert tokens and all(token not in first for token in tokens)  # each visitor's own token


def test_those_who_run_a_series_always_see_it_fresh(client, cached, make_organisation, make_user):
    society = make_organisation()
    series = SalonSeries(organisation=society, year=2026, title_zh="沙龙系列", topic_mechanism="征集", committee="张三",
                         description="第一版简介")
    db.session.add(series)
    db.session.commit()
    assert "第一版简介" in client.get(f"/series/{series.id}").get_data(as_text=True)
    series.description = "第二版简介"
    db.session.commit()
    assert "第一版简介" in client.get(f"/series/{series.id}").get_data(as_text=True)  # a visitor: cached
    log_in_session(client, make_user(Role.SOCIETY, organisation=society))
    assert "第二版简介" in client.get(f"/series/{series.id}").get_data(as_text=True)  # its organisation: fresh


def test_zero_turns_it_off(app, client, edition, make_event):
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 0
    make_event(title_zh="第一场", edition_id=edition.id, starts_at=at(10))
    client.get("/academic-month/?edition=29")
    make_event(title_zh="第二场", edition_id=edition.id, starts_at=at(11))
    assert "第二场" in client.get("/academic-month/?edition=29").get_data(as_text=True)


def test_the_cache_keeps_a_bounded_number_of_entries(app, cached):
    small = cache_module.MicroCache(max_entries=3)
    for number in range(5):
        small.get_or_make(number, lambda number=number: number)
    assert small.get_or_make(0, lambda: "made again") == "made again"  # the oldest went
    assert small.get_or_make(4, lambda: "not made") == 4
    assert time.monotonic() == cached[0]
