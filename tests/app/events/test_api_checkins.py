"""Check-in through the JSON API: bearer tokens only, scope and permission, idempotence,
and fifty scanners at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from conference_app import create_app
from conference_app.accounts.models import ApiToken, TokenScope, User
from conference_app.accounts.tokens import revoke_token, token_scope
from conference_app.audit.models import AuditEntry
from conference_app.core.db import utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.core.permissions import Role, requires
from conference_app.events.models import CheckIn, Registration
from conference_app.events.services import registrations
from conference_app.extensions import db
from tests.app.conftest import FreshGlobalsClient, app_settings, log_in_session
from tests.app.events.api_helpers import assert_api_error, bearer, check_in, post_json, token_for, written
from tests.app.helpers import csrf_token


def sign_up(event, number: int):
    registration = registrations.register(event, {"name": f"报名者{number}", "phone": f"139{number:08d}"})
    db.session.commit()
    return registration


@pytest.fixture()
def scanner(app, make_event, make_user):
    """A published event, a confirmed registration for it, and a check-in token of program staff."""
    event = make_event()
    return event, sign_up(event, 1), token_for(make_user(Role.STAFF))


def test_a_code_is_checked_in_once_and_again_changes_nothing(client, scanner):
    event, registration, token = scanner
    first = check_in(client, token, registration.code.lower())  # as a scanner may read it
    again = check_in(client, token, registration.code)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_json() == {"status": "checked_in", "event_id": event.id, "checked_in": 1}
    assert again.get_json() == {"status": "already_checked_in", "event_id": event.id, "checked_in": 1}
    saved = db.session.scalar(select(CheckIn))
    staff = db.session.scalar(select(ApiToken)).user
    assert (saved.method, saved.by_user_id, saved.registration_id) == ("api", staff.id, registration.id)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin.created")).all()
    assert [(e.actor_id, e.details["method"]) for e in entries] == [(staff.id, "api")]
    assert client.get(f"/api/v1/events/{event.id}").get_json()["checked_in"] == 1


def test_a_society_checks_in_for_the_events_it_holds_and_not_for_others(client, make_event, make_organisation,
                                                                        make_user):
    ours, organiser, theirs = make_organisation(), make_organisation(), make_organisation()
    hosted = make_event(organisations=[(ours, "host"), (organiser, "main_organiser")])
    foreign = make_event(organisation=theirs)
    our_token = token_for(make_user(Role.SOCIETY, organisation=ours))
    organiser_token = token_for(make_user(Role.SOCIETY, organisation=organiser))
    assert check_in(client, our_token, sign_up(hosted, 1).code).get_json()["status"] == "checked_in"
    assert check_in(client, organiser_token, sign_up(hosted, 2).code).get_json()["checked_in"] == 2
    stranger = sign_up(foreign, 3)
    before = written()
    for token in (our_token, organiser_token):
        assert_api_error(check_in(client, token, stranger.code), 403, "无权为该活动签到")
    assert written() == before
    assert client.get(f"/api/v1/events/{foreign.id}").get_json()["checked_in"] == 0


@pytest.mark.parametrize("role", [Role.EXPERT, Role.ANALYST])
def test_a_role_without_the_run_permission_is_a_403(client, scanner, make_user, role):
    _event, registration, _token = scanner
    assert_api_error(check_in(client, token_for(make_user(role)), registration.code), 403)
    assert written()["checkins"] == 0


def _revoked(user):
    token = token_for(user)
    revoke_token(db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id)), user)
    db.session.commit()
    return token


BAD_AUTHORIZATIONS = {
    "missing": lambda user: None,
    "basic scheme": lambda user: "Basic c3RhZmY6cGFzc3dvcmQ=",
    "bearer without a token": lambda user: "Bearer",
    "malformed": lambda user: "Bearer cap_short",
    "unknown": lambda user: "Bearer cap_" + "A" * 43,
    "another's hash": lambda user: "Bearer " + db.session.scalar(select(ApiToken.token_hash)),
    "revoked": lambda user: "Bearer " + _revoked(user),
}


@pytest.mark.parametrize("case", BAD_AUTHORIZATIONS)
def test_a_missing_malformed_unknown_or_revoked_token_is_a_401(client, scanner, make_user, case):
    _event, registration, _token = scanner
    header = BAD_AUTHORIZATIONS[case](make_user(Role.STAFF))
    before = written()
    response = client.post("/api/v1/checkins", json={"code": registration.code},
                           headers={"Authorization": header} if header else {})
    message = assert_api_error(response, 401)
    if header is None:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"' and "Authorization: Bearer" in message
    else:
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
        assert "已被吊销" in message
    assert written() == before


def test_a_token_stops_working_when_its_account_may_no_longer_log_in(client, scanner, make_user, make_organisation):
    _event, registration, staff_token = scanner
    society_org = make_organisation()
    society_token = token_for(make_user(Role.SOCIETY, organisation=society_org))
    db.session.execute(update(User).where(User.role == "staff").values(is_enabled=False))
    society_org.status = "pending"
    db.session.commit()
    for token in (staff_token, society_token):
        assert_api_error(check_in(client, token, registration.code), 401)
    assert written()["checkins"] == 0


def test_a_login_session_is_never_accepted_by_the_api(client, scanner, make_user):
    """The API is CSRF-exempt: a browser's cookie must open nothing there, with or without a CSRF token."""
    _event, registration, _token = scanner
    staff = make_user(Role.STAFF)
    log_in_session(client, staff)
    assert client.get("/home").status_code == 200  # the session works for the pages
    token = csrf_token(client, "/admin/users")
    for headers in ({}, {"X-CSRFToken": token}, {"Authorization": "Bearer cap_" + "B" * 43}):
        assert_api_error(client.post("/api/v1/checkins", json={"code": registration.code}, headers=headers), 401)
    assert written()["checkins"] == 0


def test_a_scanner_is_never_given_a_cookie(client, scanner):
    """A device calling the API keeps no session: it sends its token every time."""
    event, registration, token = scanner
    answers = (check_in(client, token, registration.code), client.get(f"/api/v1/events/{event.id}"),
               client.post("/api/v1/checkins", json={"code": registration.code}))
    assert [response.status_code for response in answers] == [200, 200, 401]
    assert all("Set-Cookie" not in response.headers for response in answers)


def test_a_token_of_another_scope_is_a_403(database_url, tmp_path, make_user):
    """Only one scope exists so far (checkin): a route declaring another one shows that a token
    works only within its own."""

    class FutureScope(TitledStrEnum):
        EXPORT = "export", "Export registrations"

    fresh = create_app(app_settings(database_url, tmp_path / "instance") | {"WTF_CSRF_ENABLED": False})
    fresh.test_client_class = FreshGlobalsClient

    @fresh.post("/api/v1/exports")
    @requires("events.run")
    @token_scope(FutureScope.EXPORT)
    def export():
        return {"exported": True}

    @fresh.post("/api/v1/scanned")
    @requires("events.run")
    @token_scope(TokenScope.CHECKIN)
    def scanned():
        return {"scanned": True}

    token = token_for(make_user(Role.STAFF))
    with fresh.app_context():
        client = fresh.test_client()
        message = assert_api_error(client.post("/api/v1/exports", headers=bearer(token)), 403)
        assert "export" in message
        assert client.post("/api/v1/scanned", headers=bearer(token)).get_json() == {"scanned": True}
        db.session.remove()


@pytest.mark.parametrize(("prepare", "status", "message"), [
    (lambda registration: setattr(registration, "status", "waitlisted"), 409, "候补"),
    (lambda registration: setattr(registration, "status", "cancelled"), 409, "已取消"),
    (lambda registration: setattr(registration.event, "status", "cancelled"), 409, "不能签到"),
    (lambda registration: setattr(registration.event, "status", "draft"), 409, "不能签到"),
])
def test_a_code_that_may_not_be_checked_in_is_refused(client, scanner, prepare, status, message):
    _event, registration, token = scanner
    prepare(registration)
    db.session.commit()
    assert_api_error(check_in(client, token, registration.code), status, message)
    assert written()["checkins"] == 0


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"code": "0000000000"}, 404, "没有与该签到码对应的报名"),
    ({"code": ""}, 400, "签到码"),
    ({}, 400, "签到码"),
    ({"code": 12345}, 400, "code"),
    ("not json", 400, "JSON 对象"),
])
def test_a_bad_code_is_a_json_4xx(client, scanner, body, status, message):
    _event, _registration, token = scanner
    assert_api_error(post_json(client, "/api/v1/checkins", body, token), status, message)
    assert written()["checkins"] == 0


def test_last_used_is_noted_to_the_minute(client, scanner):
    _event, registration, token = scanner
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    check_in(client, token, registration.code)
    db.session.expire_all()
    first_use = db.session.scalar(select(ApiToken.last_used_at))
    assert first_use is not None and utcnow() - first_use < timedelta(minutes=1)
    check_in(client, token, registration.code)
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) == first_use  # within the minute: not written again
    db.session.execute(update(ApiToken).values(last_used_at=first_use - timedelta(minutes=5)))
    db.session.commit()
    check_in(client, token, registration.code)
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) > first_use


def test_a_token_opens_no_page_of_the_site(client, scanner):
    """Tokens are for the API only: with one, the pages still ask for a login."""
    _event, _registration, token = scanner
    for url in ("/home", "/admin/users", "/admin/tokens"):
        assert client.get(url, headers=bearer(token)).location.startswith("/auth/login")


# --- fifty scanners at once ------------------------------------------------------------------

SCANNERS = 50
DEVICES = 5  # tokens: several requests share each, as a scanner device's would


def parallel_check_ins(app, tokens: list[str], codes: list[str]) -> list[dict]:
    """Post one check-in per code at the same moment, each from a client (and app context,
    and database session) of its own; returns the JSON answers."""
    barrier = threading.Barrier(len(codes))
    answers: list[dict] = []

    def scan(number: int) -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            response = check_in(client, tokens[number % len(tokens)], codes[number])
            answers.append({"http": response.status_code, **response.get_json()})
            db.session.remove()

    threads = [threading.Thread(target=scan, args=(number,)) for number in range(len(codes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_fifty_concurrent_check_ins_count_fifty_and_checking_them_again_changes_nothing(app, client, make_event,
                                                                                        make_user):
    """Acceptance 3 (on PostgreSQL with TEST_DATABASE_URL, and on SQLite)."""
    event = make_event(capacity=SCANNERS)
    codes = [sign_up(event, number).code for number in range(SCANNERS)]
    staff = make_user(Role.STAFF)
    tokens = [token_for(staff, name=f"scanner {n}") for n in range(DEVICES)]

    first = parallel_check_ins(app, tokens, codes)
    assert len(first) == SCANNERS and {a["http"] for a in first} == {200}
    assert {a["status"] for a in first} == {"checked_in"} and {a["event_id"] for a in first} == {event.id}
    # Each saw itself and those committed before it (which of the others, the moment decides).
    assert all(1 <= a["checked_in"] <= SCANNERS for a in first)

    again = parallel_check_ins(app, tokens, codes)
    assert [(a["http"], a["status"], a["checked_in"]) for a in again] == [(200, "already_checked_in", SCANNERS)] * 50

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.event_id == event.id)) == SCANNERS
    assert db.session.scalar(select(func.count(func.distinct(CheckIn.registration_id)))) == SCANNERS
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "checkin.created")) == SCANNERS
    assert db.session.scalar(select(func.count()).select_from(Registration)) == SCANNERS
    assert client.get(f"/api/v1/events/{event.id}").get_json()["checked_in"] == SCANNERS
