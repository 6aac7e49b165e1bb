"""A funded project's indicators evaluated from the recorded facts in the database: events it
holds and links, their check-ins (person-times), filings and sessions, and the documents it
uploads, whose Chinese characters are counted from the file (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from docx import Document
from sqlalchemy import insert
from werkzeug.datastructures import FileStorage

from conference_app.events.models import CheckIn, Event, Registration, SalonSeries
from conference_app.extensions import db
from conference_app.programs.services import performance
from tests.app.programs.helpers import CALL_2026, CALLS, category, draft, eligible_organisation, open_call

# The 2026 call with its period over (ended 2026-11-30), so a shortfall is "not met", not "waiting".
PERIOD_OVER = [("end: 2026-12-31}", "end: 2026-11-30}")]
XINJIANG = CALLS / "2025-xinjiang.yaml"


def held(organisation, make_event, *, kind="international", filing="approved", day=20, **fields) -> Event:
    starts = datetime(2026, 10, day, 1, tzinfo=timezone.utc)
    return make_event(organisation=organisation, kind=kind, status="held", filing_status=filing,
                      starts_at=starts, ends_at=starts.replace(hour=9), **fields)


def check_in(event: Event, people: int) -> None:
    """``people`` registrations of ``event``, each checked in once (bulk rows, as an import would write)."""
    rows = [{"event_id": event.id, "code": f"T{event.id:04d}{n:06d}", "status": "confirmed", "source": "demo",
             "name": f"参会者{n}", "locale": "zh_CN"} for n in range(people)]
    db.session.execute(insert(Registration), rows)
    ids = db.session.scalars(db.select(Registration.id).where(Registration.event_id == event.id)).all()
    db.session.execute(insert(CheckIn), [{"event_id": event.id, "registration_id": rid, "method": "scan"}
                                         for rid in ids])
    db.session.commit()


def funded(organisation, cat, owner, **fields):
    application = draft(organisation, cat, owner, **fields)
    application.status = "in_progress"
    db.session.commit()
    return application


def result(application, code):
    return next(r for r in performance.evaluate_project(application) if r.code == code)


@pytest.fixture()
def project_a(app, make_user, make_organisation):
    call = open_call(CALL_2026, replace=PERIOD_OVER)
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    return funded(organisation, category(call, "A"), owner), owner


def test_399_person_times_do_not_meet_the_400_indicator_and_400_do(project_a, make_event):
    application, owner = project_a
    conference = held(application.organisation, make_event)
    performance.link_event(application, conference, actor=owner)
    db.session.commit()
    check_in(conference, 399)
    attendance = result(application, "A5")
    assert (attendance.status, attendance.value, attendance.target) == ("not_met", 399, 400)
    assert any(e.ref_type == "event" and e.ref_id == conference.id for e in attendance.evidence)
    check_in(held(application.organisation, make_event, kind="national", day=25, title_zh="全国会议"), 1)
    performance.link_event(application, db.session.scalars(db.select(Event).where(Event.title_zh == "全国会议")).one(),
                           actor=owner)
    db.session.commit()
    attendance = result(application, "A5")
    assert (attendance.status, attendance.value) == ("met", 400)


def test_an_international_conference_without_its_approved_filing_does_not_count(project_a, make_event):
    application, owner = project_a
    conference = held(application.organisation, make_event, filing="pending", title_zh="未获批的国际会议")
    performance.link_event(application, conference, actor=owner)
    db.session.commit()
    filing = result(application, "A2")
    assert filing.status == "not_met"
    assert any("未获批的国际会议" in e.label + e.detail for e in filing.evidence), filing.evidence
    conference.filing_status = "approved"
    db.session.commit()
    assert result(application, "A2").status == "met"


def test_while_the_period_runs_a_shortfall_is_waiting(app, make_user, make_organisation, make_event):
    call = open_call(CALL_2026, replace=[("end: 2026-12-31}", "end: 2099-12-31}")])
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    application = funded(organisation, category(call, "A"), owner)
    assert result(application, "A5").status == "waiting"


def test_a_salon_series_with_three_sessions_does_not_meet_the_four_sessions_rule(app, make_user, make_organisation,
                                                                                  make_event):
    call = open_call(CALL_2026, replace=PERIOD_OVER)
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    series = SalonSeries(organisation_id=organisation.id, year=2026, title_zh="前沿交叉沙龙",
                         topic_mechanism="会员提出选题，选题委员会遴选")
    db.session.add(series)
    db.session.commit()
    application = funded(organisation, category(call, "C"), owner, form_code="salon_series")
    application.series_id = series.id
    db.session.commit()
    for day in (5, 12, 19):
        held(organisation, make_event, kind="salon_session", filing="not_needed", day=day, series_id=series.id,
             core_topic="量子计算")
    sessions = result(application, "C3b")
    assert (sessions.status, sessions.value, sessions.target) == ("not_met", 3, 4)
    held(organisation, make_event, kind="salon_session", filing="not_needed", day=26, series_id=series.id)
    assert result(application, "C3b").status == "met"


def _docx_with(characters: int) -> bytes:
    document = Document()
    text = "学术交流总结报告" * (characters // 8)
    for start in range(0, len(text), 500):
        document.add_paragraph(text[start:start + 500] + "。2026 ABC")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_summary_report_of_3000_characters_fails_the_4000_rule_counted_from_the_file(app, make_user,
                                                                                        make_organisation):
    call = open_call(XINJIANG, replace=[("end: 2026-01-31}", "end: 2026-11-30}")])
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    application = funded(organisation, call.categories[0], owner)
    record = performance.add_record(application, {"kind": "document", "subkind": "summary_report",
                                                  "title": "项目总结报告"},
                                    FileStorage(io.BytesIO(_docx_with(3000)), "总结报告.docx"), actor=owner)
    db.session.commit()
    assert record.char_count == 3000  # Han characters only: the digits, Latin and punctuation do not count
    report = result(application, "2b")
    assert (report.status, report.value, report.target) == ("not_met", 3000, 4000)
    performance.add_record(application, {"kind": "document", "subkind": "summary_report", "title": "修订版"},
                           FileStorage(io.BytesIO(_docx_with(4000)), "总结报告2.docx"), actor=owner)
    db.session.commit()
    assert result(application, "2b").status == "met"


def test_only_an_event_the_organisation_holds_can_count(project_a, make_event, make_organisation):
    from conference_app.core.services import ServiceError

    application, owner = project_a
    foreign = held(make_organisation(), make_event)
    with pytest.raises(ServiceError) as refused:
        performance.link_event(application, foreign, actor=owner)
    assert refused.value.status == 403
