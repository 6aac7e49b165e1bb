"""Every route is public or guarded, for every role, by walking the URL map.

For each rule and method: anonymous visitors are sent to the login page unless the view is
public; a role outside the permission's ``route_roles`` gets 403; a role inside never gets
403 or 500. A route added without ``@requires``/``@public`` is denied, and the walk flags it.
A route that names an object (an ``<id:...>`` argument) under a permission granted to
owners must load that object and check the permission on it in its declaration
(``@requires(name, load=Model, arg=...)``): otherwise an owner role would pass the route
check for anybody's object, and the walk flags it.

Bearer-token routes of the JSON API (``@token_scope``) are walked with a token of the route's
scope for each role's user instead of a login session: without one the answer is a 401 with
``WWW-Authenticate: Bearer`` (never the login page), and a login session alone opens nothing.
"""

from __future__ import annotations

import uuid

import pytest
from itsdangerous import URLSafeTimedSerializer
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from conference_app import create_app
from conference_app.accounts.tokens import issue_token, view_token_scope
from conference_app.core.db import IdConverter
from conference_app.core.permissions import PERMISSIONS, Role, requires, view_object_load, view_requirement
from conference_app.extensions import db
from conference_app.organisations.models import Organisation
from tests.app.conftest import FreshGlobalsClient, app_settings, log_in_session

MISSING_ID = 987654
ANONYMOUS = None


def dummy_value(converter):
    """A value the converter accepts that names no existing record."""
    if isinstance(converter, IntegerConverter):
        return MISSING_ID
    if isinstance(converter, FloatConverter):
        return 1.5
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, AnyConverter):
        return next(iter(converter.items))
    return "x"


def walk_requests(app):
    """(endpoint, method, url) for every routed method except static files; ids name no record."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {name: dummy_value(converter) for name, converter in rule._converters.items()}
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def valid_csrf_token(app, client) -> str:
    """Give the client's session a CSRF secret and return the token Flask-WTF will accept."""
    with client.session_transaction() as session:
        session["csrf_token"] = "url-map-walk"
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("url-map-walk")


def unloaded_owner_routes(app) -> list[str]:
    """Routes naming an object by id whose owner-granted permission is declared without loading it."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        is_public, name = view_requirement(view)
        if is_public or name not in PERMISSIONS or not PERMISSIONS[name].owner_roles:
            continue
        id_args = {arg for arg, converter in rule._converters.items() if isinstance(converter, IdConverter)}
        if not id_args:
            continue
        load = view_object_load(view)
        if load is None or load.arg not in id_args:
            found.append(f"{rule.rule}: {name} is granted to owners but the route does not load its object")
    return found


def bearer_headers(user, scope, issued: dict) -> dict:
    """An Authorization header with a token of ``scope`` for ``user`` (issued once per walk)."""
    if (user.id, scope) not in issued:
        issued[user.id, scope] = issue_token(db.session.get(type(user), user.id), scope, "url-map walk").secret
        db.session.commit()
    return {"Authorization": f"Bearer {issued[user.id, scope]}"}


def problems_for(app, client, users: dict) -> list[str]:
    """What breaks the rules above; empty when every route is guarded as declared."""
    found = unloaded_owner_routes(app)
    issued: dict = {}
    for endpoint, method, url in walk_requests(app):
        view = app.view_functions[endpoint]
        is_public, permission_name = view_requirement(view)
        scope = view_token_scope(view)
        if not is_public and permission_name not in PERMISSIONS:
            found.append(f"{endpoint}: no @requires/@public (or unknown permission {permission_name!r})")
            continue
        for role, user in users.items():
            if user is None:
                with client.session_transaction() as session:
                    session.clear()
            else:
                log_in_session(client, user)
            data = {"csrf_token": valid_csrf_token(app, client)} if method != "GET" else None
            who = "anonymous" if role is ANONYMOUS else role.value
            headers = None
            if scope is not None and user is not None:
                session_only = client.open(url, method=method, data=data)
                if session_only.status_code != 401:
                    found.append(f"{method} {url} as {who} with a login session only: {session_only.status_code}")
                headers = bearer_headers(user, scope, issued)
            response = client.open(url, method=method, data=data, headers=headers)
            status = response.status_code
            if status >= 500:
                found.append(f"{method} {url} as {who}: {status}")
            elif is_public:
                if status == 403 or (response.location or "").startswith("/auth/login?"):
                    found.append(f"{method} {url} (public) as {who}: {status}")
            elif role is ANONYMOUS and scope is not None:
                if status != 401 or not response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
                    found.append(f"{method} {url} as anonymous: {status}, not a 401 asking for a bearer token")
            elif role is ANONYMOUS:
                if status != 302 or not response.location.startswith("/auth/login"):
                    found.append(f"{method} {url} as anonymous: {status}, not sent to the login page")
            elif role in PERMISSIONS[permission_name].route_roles:
                if status == 403:
                    found.append(f"{method} {url} as {who}: 403 although {permission_name} allows the role")
            elif status != 403:
                found.append(f"{method} {url} as {who}: {status}, expected 403 ({permission_name})")
    return found


@pytest.fixture()
def users(make_user) -> dict:
    return {ANONYMOUS: None} | {role: make_user(role) for role in Role}


def test_every_route_is_guarded_for_every_role(app, client, users):
    assert problems_for(app, client, users) == []


def test_the_walk_covers_the_platform_routes(app):
    endpoints = {endpoint for endpoint, _method, _url in walk_requests(app)}
    assert {"core.home", "accounts.users", "accounts.disable_user", "audit.index", "audit.export"} <= endpoints
    assert {"events_api.events", "events_api.checkin", "accounts.revoke_token", "accounts.revoke_my_token"} <= endpoints
    assert view_token_scope(app.view_functions["events_api.checkin"]) == "checkin"


def test_a_route_without_a_declaration_is_denied_and_flagged(database_url, tmp_path, make_user):
    fresh = create_app(app_settings(database_url, tmp_path / "instance"))
    fresh.test_client_class = FreshGlobalsClient

    @fresh.get("/forgotten")
    def forgotten():
        return "secret"

    staff = make_user(Role.STAFF)
    client = fresh.test_client()
    with fresh.app_context():
        assert client.get("/forgotten").location.startswith("/auth/login")
        log_in_session(client, staff)
        response = client.get("/forgotten")
        assert response.status_code == 403 and "secret" not in response.get_data(as_text=True)
        problems = problems_for(fresh, client, {ANONYMOUS: None, Role.STAFF: staff})
        db.session.remove()
    assert problems == ["forgotten: no @requires/@public (or unknown permission None)"]


def test_an_owner_route_that_does_not_load_its_object_is_flagged(database_url, tmp_path, make_user):
    fresh = create_app(app_settings(database_url, tmp_path / "instance"))

    @fresh.get("/organisations/<id:org_id>/forgotten")
    @requires("organisations.edit")
    def forgotten(org_id):
        return "anybody's organisation"

    @fresh.get("/organisations/<id:org_id>/careful")
    @requires("organisations.edit", load=Organisation, arg="org_id")
    def careful(organisation):
        return organisation.name_zh

    assert unloaded_owner_routes(fresh) == [
        "/organisations/<id:org_id>/forgotten: organisations.edit is granted to owners but the route does not load its object"
    ]


def test_a_loaded_object_of_someone_else_is_403_and_a_missing_one_404(app, client, make_user, make_organisation):
    mine, theirs = make_organisation(), make_organisation()
    admin = make_user(Role.SOCIETY, organisation=mine, is_org_admin=True)
    log_in_session(client, admin)
    assert client.get(f"/organisations/{mine.id}/edit").status_code == 200
    assert client.get(f"/organisations/{theirs.id}/edit").status_code == 403
    assert client.get(f"/organisations/{MISSING_ID}/edit").status_code == 404
