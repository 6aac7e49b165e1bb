"""The public notices for an anonymous visitor: the list, a notice's projects by category, a
signed objection stored and never shown, and no objection once the notice is over."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.models import Objection
from tests.app.helpers import csrf_token
from tests.app.programs.page_helpers import call_2026, notice_of  # noqa: F401  (fixtures)


@pytest.fixture()
def notice(call_2026, make_user, make_organisation):
    return notice_of(call_2026, make_user, make_organisation)


def objections() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Objection))


def objection_form(**overrides) -> dict:
    data = {"name": "王某", "contact": "13800138000", "application_id": "",
            "text": "该项目申报材料所列往年国际会议并非申报单位主办，请予核实。"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_an_anonymous_visitor_sees_the_list_and_the_projects_by_category(client, notice):
    notice, projects = notice
    listing = client.get("/notices/")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert notice.title in html and notice.call.title_zh in html and 'data-testid="notice-open"' in html
    assert f'href="/notices/{notice.id}"' in html

    page = client.get(f"/notices/{notice.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert [c for c in re.findall(r'data-testid="notice-category">([^<]+)<', html)] == [
        "A · 首都学术培优A类项目（国际）", "B · 首都学术培优B类项目（区域）"]
    for project in projects:
        assert project.project_name_zh in html and project.organisation.name_zh in html
    assert "¥200,000.00" in html and "¥100,000.00" in html
    assert 'data-testid="objection-form"' in html


def test_an_objection_is_stored_and_never_shown(client, no_csrf, notice):
    notice, projects = notice
    target = projects[1]
    response = client.post(f"/notices/{notice.id}", data=objection_form(application_id=str(target.id)))
    assert response.status_code == 302
    stored = db.session.scalar(select(Objection))
    assert (stored.name, stored.contact, stored.application_id, stored.notice_id) == (
        "王某", "13800138000", target.id, notice.id)
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "Objection")) == \
        "objection.received"
    thanked = client.get(response.location).get_data(as_text=True)
    assert "alert-success" in thanked  # the thank-you message
    for html in (thanked, client.get(f"/notices/{notice.id}").get_data(as_text=True),
                 client.get("/notices/").get_data(as_text=True)):
        assert "王某" not in html and "13800138000" not in html and "并非申报单位主办" not in html


@pytest.mark.parametrize("fields", [{"name": ""}, {"contact": "  "}, {"text": ""}, {"name": "王某\x00"},
                                    {"application_id": "987654"}])
def test_an_unsigned_or_bad_objection_is_refused_with_a_message(client, no_csrf, notice, fields):
    notice, _projects = notice
    response = client.post(f"/notices/{notice.id}", data=objection_form(**fields))
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.get_data(as_text=True)
    assert objections() == 0


def test_after_the_notice_ends_the_form_is_gone_and_a_post_is_a_409(client, no_csrf, notice):
    notice, _projects = notice
    notice.starts_on, notice.ends_on = beijing_today() - timedelta(days=8), beijing_today() - timedelta(days=1)
    db.session.commit()
    page = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert 'data-testid="objection-form"' not in page and 'data-testid="objections-closed"' in page
    assert 'data-testid="notice-closed"' in page
    assert 'data-testid="notice-closed"' in client.get("/notices/").get_data(as_text=True)
    response = client.post(f"/notices/{notice.id}", data=objection_form())
    assert response.status_code == 409
    assert 'data-testid="form-errors"' in response.get_data(as_text=True)
    assert objections() == 0


def test_a_tampered_csrf_token_is_a_400(client, notice):
    notice, _projects = notice
    token = csrf_token(client, f"/notices/{notice.id}")
    response = client.post(f"/notices/{notice.id}", data={**objection_form(), "csrf_token": token[:-3] + "xyz"})
    assert response.status_code == 400
    assert objections() == 0
    response = client.post(f"/notices/{notice.id}", data={**objection_form(), "csrf_token": token})
    assert response.status_code == 302 and objections() == 1


def test_a_missing_notice_is_a_404_and_an_empty_list_says_so(client, app):
    assert client.get("/notices/987654").status_code == 404
    response = client.get("/notices/")
    assert response.status_code == 200 and 'data-testid="notices"' in response.get_data(as_text=True)


def test_one_address_sends_at_most_five_objections_an_hour(client, no_csrf, notice):
    notice, _projects = notice
    for number in range(5):
        sent = client.post(f"/notices/{notice.id}", data=objection_form(text=f"第{number + 1}条异议：请核实申报材料。"))
        assert sent.status_code == 302
    refused = client.post(f"/notices/{notice.id}", data=objection_form(text="第6条异议"))
    assert refused.status_code == 429
    assert "异议过多" in refused.get_data(as_text=True) or "稍后" in refused.get_data(as_text=True)
    assert objections() == 5
    other = client.post(f"/notices/{notice.id}", data=objection_form(text="另一网络的异议"),
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 302 and objections() == 6
