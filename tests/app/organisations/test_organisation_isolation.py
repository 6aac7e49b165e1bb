"""Acceptance 4: a society user cannot read or change another organisation's records,
neither by URL nor by adding fields to its own forms."""

from __future__ import annotations

import pytest

from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations import services
from tests.app.helpers import csrf_token


@pytest.fixture()
def world(client, auth, make_organisation, make_user):
    """Our organisation with its logged-in administrator, and another organisation."""
    ours = make_organisation(name_zh="北京力学会", is_bast_member=False, contact_name="我方联系人")
    theirs = make_organisation(name_zh="北京计算机学会", is_bast_member=True, contact_name="对方联系人")
    their_event = services.add_past_event(theirs, year=2024, kind="national", title="全国计算机大会", role="host")
    db.session.commit()
    admin = make_user(Role.SOCIETY, organisation=ours, is_org_admin=True)
    auth.login(admin.email)
    return {"ours": ours, "theirs": theirs, "their_event": their_event}


def snapshot(organisation) -> dict:
    db.session.expire_all()
    skipped = ("updated_at", "version")  # both move on any saved edit
    columns = [column.key for column in type(organisation).__table__.columns if column.key not in skipped]
    values = {key: getattr(organisation, key) for key in columns}
    values["events"] = [(event.year, event.title) for event in organisation.past_events]
    return values


def test_other_organisation_by_url_is_forbidden(client, world):
    theirs, event = world["theirs"], world["their_event"]
    before = snapshot(theirs)
    token = csrf_token(client, f"/organisations/{world['ours'].id}")
    assert client.get(f"/organisations/{theirs.id}").status_code == 403
    assert client.get(f"/organisations/{theirs.id}/edit").status_code == 403
    edit = client.post(f"/organisations/{theirs.id}/edit", data={"contact_name": "篡改", "csrf_token": token})
    assert edit.status_code == 403
    event_data = {"year": "2024", "kind": "national", "title": "伪造会议", "role": "host", "csrf_token": token}
    assert client.post(f"/organisations/{theirs.id}/events", data=event_data).status_code == 403
    delete = client.post(f"/organisations/{theirs.id}/events/{event.id}/delete", data={"csrf_token": token})
    assert delete.status_code == 403
    for action in ("approve", "reject"):
        assert client.post(f"/organisations/{theirs.id}/{action}", data={"csrf_token": token}).status_code == 403
    assert snapshot(theirs) == before


def test_their_event_through_our_url_is_not_found(client, world):
    ours, event = world["ours"], world["their_event"]
    url = f"/organisations/{ours.id}"
    response = client.post(f"{url}/events/{event.id}/delete", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 404
    assert snapshot(world["theirs"])["events"] == [(2024, "全国计算机大会")]


def test_staff_only_fields_added_to_the_edit_form_change_nothing(client, world):
    ours, theirs = world["ours"], world["theirs"]
    before_ours, before_theirs = snapshot(ours), snapshot(theirs)
    url = f"/organisations/{ours.id}/edit"
    tampered = {
        "contact_name": "新联系人",
        "id": theirs.id,
        "organisation_id": theirs.id,
        "status": "rejected",
        "is_bast_member": "y",
        "bast_member_since": "2001-01-01",
        "in_journal_excellence_plan": "y",
        "name_zh": theirs.name_zh,
        "credit_code": theirs.credit_code,
        "org_type": "journal_publisher",
        "reviewed_by_id": "1",
        "csrf_token": csrf_token(client, url),
    }
    assert client.post(url, data=tampered).status_code == 302
    after_ours = snapshot(ours)
    assert after_ours.pop("contact_name") == "新联系人"
    before_ours.pop("contact_name")
    assert after_ours == before_ours
    assert snapshot(theirs) == before_theirs


def test_organisation_id_added_to_the_event_form_is_ignored(client, world):
    ours, theirs = world["ours"], world["theirs"]
    before_theirs = snapshot(theirs)
    url = f"/organisations/{ours.id}"
    data = {
        "year": "2023",
        "kind": "international",
        "title": "国际力学论坛",
        "role": "host",
        "organisation_id": theirs.id,
        "csrf_token": csrf_token(client, url),
    }
    assert client.post(f"{url}/events", data=data).status_code == 302
    assert snapshot(ours)["events"] == [(2023, "国际力学论坛")]
    assert snapshot(theirs) == before_theirs


def test_plain_member_cannot_change_its_own_organisation(client, auth, world, make_user):
    member = make_user(Role.SOCIETY, organisation=world["ours"])
    auth.logout()
    auth.login(member.email)
    url = f"/organisations/{world['ours'].id}"
    token = csrf_token(client, url)
    before = snapshot(world["ours"])
    assert client.post(f"{url}/edit", data={"contact_name": "篡改", "csrf_token": token}).status_code == 403
    event = {"year": "2024", "kind": "national", "title": "会议", "role": "host", "csrf_token": token}
    assert client.post(f"{url}/events", data=event).status_code == 403
    assert snapshot(world["ours"]) == before
