"""Acceptance 4, the pages: a society cannot edit, check in for, or read the registrations of
an event it does not host, neither by URL nor by a form field; nothing is written."""

from __future__ import annotations

import io

import pytest

from conference_app.core.permissions import Role
from conference_app.events.models import CheckInMethod
from conference_app.events.services import checkins
from conference_app.events.services import events as services
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.events.manage_helpers import (  # noqa: F401  (fixtures)
    event_form,
    person_form,
    post,
    row_counts,
    sign_up,
    society,
)


@pytest.fixture()
def theirs(society, make_event, make_user):
    """Another organisation's event with a speaker, a registration and a filing document."""
    event = make_event(organisation=society.other, kind="international", title_zh="别人的国际会议")
    their_user = make_user(Role.SOCIETY, organisation=society.other)
    services.add_person(event, {"role": "speaker", "name": "张院士", "is_leading_figure": True,
                                "leading_reason": "院士", "talk_minutes": 40})
    registration = sign_up(event, "王五", "13800000005")
    db.session.commit()
    return {"event": event, "person": event.people[0], "registration": registration, "user": their_user}


def their_urls(event, person, registration) -> list[tuple[str, str]]:
    base = f"/manage/events/{event.id}"
    return [
        ("GET", base), ("GET", f"{base}/edit"), ("POST", f"{base}/edit"),
        *[("POST", f"{base}/{step}") for step in ("publish", "unpublish", "mark_held", "cancel", "reopen")],
        ("POST", f"{base}/people"), ("GET", f"{base}/people/{person.id}/edit"),
        ("POST", f"{base}/people/{person.id}/edit"), ("POST", f"{base}/people/{person.id}/remove"),
        ("GET", f"{base}/filing/document"), ("POST", f"{base}/filing/document"),
        *[("POST", f"{base}/filing/{step}") for step in ("file", "approve", "withdraw")],
        ("GET", f"{base}/registrations"), ("GET", f"{base}/registrations/export.xlsx"),
        ("POST", f"{base}/registrations/{registration.id}/cancel"),
        ("GET", f"{base}/check-in"), ("GET", f"{base}/check-in?q=王五"), ("POST", f"{base}/check-in"),
        ("POST", f"{base}/check-in.json"), ("GET", f"{base}/check-in/counts.json"),
    ]


def test_every_page_of_another_organisations_event_is_forbidden(client, society, theirs):
    event, registration = theirs["event"], theirs["registration"]
    before = row_counts()
    for method, url in their_urls(event, theirs["person"], registration):
        if method == "GET":
            response = client.get(url)
        elif url.endswith(".json"):
            response = client.post(url, json={"code": registration.code},
                                   headers={"X-CSRFToken": csrf_for(client)})
        else:
            response = post(client, url, {"comment": "篡改", "code": registration.code, "name": "伪造",
                                          "role": "speaker", "document": (io.BytesIO(b"%PDF-1.4\n%%EOF"), "a.pdf"),
                                          **event_form([(society.organisation.id, "host")])},
                            content_type="multipart/form-data")
        assert response.status_code == 403, (method, url, response.status_code)
    assert row_counts() == before
    assert "王五" not in client.get(f"/manage/events/{event.id}/registrations").get_data(as_text=True)


def csrf_for(client) -> str:
    from tests.app.helpers import csrf_token

    return csrf_token(client, "/home")


def test_a_main_organiser_runs_the_event_but_cannot_edit_it(client, society, make_event):
    event = make_event(organisations=[(society.other, "host"), (society.organisation, "main_organiser")])
    registration = sign_up(event, "王五", "13800000005")
    base = f"/manage/events/{event.id}"
    for url in (base, f"{base}/registrations", f"{base}/check-in", f"{base}/registrations/export.xlsx"):
        assert client.get(url).status_code == 200, url
    page = client.get(base).get_data(as_text=True)
    assert 'data-testid="edit-event"' not in page and 'data-testid="transition-publish"' not in page
    before = row_counts()
    assert client.get(f"{base}/edit").status_code == 403
    assert post(client, f"{base}/edit", event_form([(society.organisation.id, "host")])).status_code == 403
    assert post(client, f"{base}/people", person_form()).status_code == 403
    assert post(client, f"{base}/cancel", {"comment": "不办了"}).status_code == 403
    assert row_counts() == before
    response = client.post(f"{base}/check-in.json", json={"code": registration.code},
                           headers={"X-CSRFToken": csrf_for(client)})
    assert response.status_code == 200 and response.json["status"] == "checked_in"


def test_a_society_cannot_record_an_event_for_another_organisation_as_host(client, society):
    before = row_counts()
    response = post(client, "/manage/events/new", event_form([(society.other.id, "host")]))
    assert response.status_code == 400
    assert "本单位须为所登记活动的主办或联合主办单位" in response.get_data(as_text=True)
    # Naming ourselves only as main organiser (not a host) does not give the right to edit either.
    response = post(client, "/manage/events/new", event_form([(society.other.id, "host"),
                                                              (society.organisation.id, "main_organiser")]))
    assert response.status_code == 400
    assert row_counts() == before


def test_a_society_cannot_take_its_own_organisation_off_its_event(client, society, make_event):
    event = make_event(organisation=society.organisation)
    before = row_counts()
    for rows in ([(society.other.id, "host")], [(society.other.id, "host"), (society.organisation.id, "main_organiser")]):
        response = post(client, f"/manage/events/{event.id}/edit", event_form(rows))
        assert response.status_code == 400
        assert "本单位须保留为该活动的主办或联合主办单位" in response.get_data(as_text=True)
    assert row_counts() == before
    db.session.expire_all()
    assert [(link.organisation_id, link.role) for link in event.organisations] == [(society.organisation.id, "host")]


def test_fields_the_form_does_not_have_change_nothing(client, society, make_event):
    event = make_event(organisation=society.organisation, status="draft", kind="international")
    data = event_form([(society.organisation.id, "host")], kind="international", title_zh="改过的标题") | {
        "status": "published", "filing_status": "approved", "created_by_id": "1", "edition_id": "1",
        "filing_document_path": "../../etc/passwd", "id": "999",
    }
    assert post(client, f"/manage/events/{event.id}/edit", data).status_code == 302
    db.session.expire_all()
    assert event.title_zh == "改过的标题"
    assert (event.status, event.filing_status, event.created_by_id, event.filing_document_path) == (
        "draft", "not_needed", None, None)


def test_a_person_or_registration_of_another_event_through_our_url_is_not_found(client, society, make_event, theirs):
    ours = make_event(organisation=society.organisation)
    person, registration = theirs["person"], theirs["registration"]
    before = row_counts()
    base = f"/manage/events/{ours.id}"
    assert client.get(f"{base}/people/{person.id}/edit").status_code == 404
    assert post(client, f"{base}/people/{person.id}/edit", person_form(name="篡改")).status_code == 404
    assert post(client, f"{base}/people/{person.id}/remove").status_code == 404
    assert post(client, f"{base}/registrations/{registration.id}/cancel", {"comment": "篡改"}).status_code == 404
    assert row_counts() == before
    db.session.expire_all()
    assert person.name == "张院士" and registration.status == "confirmed"


def test_check_in_at_our_event_with_the_code_of_another_organisations_event_is_refused(client, society, make_event,
                                                                                      theirs):
    ours = make_event(organisation=society.organisation)
    code = theirs["registration"].code
    before = row_counts()
    response = client.post(f"/manage/events/{ours.id}/check-in.json", json={"code": code},
                           headers={"X-CSRFToken": csrf_for(client)})
    assert response.status_code == 403
    assert response.json["error"] == "您无权为该活动签到。"
    assert "别人的国际会议" not in response.get_data(as_text=True)
    html = post(client, f"/manage/events/{ours.id}/check-in", {"code": code})
    assert html.status_code == 403 and "您无权为该活动签到" in html.get_data(as_text=True)
    assert row_counts() == before


def test_staff_may_do_everything_on_any_event(client, make_user, theirs):
    log_in_session(client, make_user(Role.STAFF))
    event, registration = theirs["event"], theirs["registration"]
    for url in (f"/manage/events/{event.id}", f"/manage/events/{event.id}/edit",
                f"/manage/events/{event.id}/registrations", f"/manage/events/{event.id}/check-in"):
        assert client.get(url).status_code == 200, url
    result = client.post(f"/manage/events/{event.id}/check-in.json", json={"code": registration.code},
                         headers={"X-CSRFToken": csrf_for(client)})
    assert result.status_code == 200
    assert checkins.checked_in_count(event.id) == 1
    assert CheckInMethod.SCAN == db.session.get(type(registration), registration.id).check_in.method
