"""Every error of the JSON API is JSON with a 4xx status, never an HTML page or a 500: a walk
over the API's routes (all of them, from the URL map) with bad input of every kind."""

from __future__ import annotations

import pytest

from conference_app import create_app
from conference_app.accounts.tokens import view_token_scope
from conference_app.core import api
from conference_app.core.db import MAX_ID
from conference_app.core.permissions import PERMISSIONS, Role, public
from conference_app.extensions import db
from tests.app.conftest import FreshGlobalsClient, app_settings
from tests.app.events.api_helpers import assert_api_error, bearer, token_for, written
from tests.conftest import REPO_ROOT

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
BAD_BODIES = {
    "invalid JSON": b'{"name": ',
    "a JSON array": b'["a", "b"]',
    "a JSON string": b'"code"',
    "empty": b"",
    "not UTF-8": b'{"name": "\xff\xfe"}',
    "nested beyond reason": b"[" * 5_000 + b"]" * 5_000,
    "too large": b'{"name": "' + b"x" * (api.MAX_BODY_BYTES + 1) + b'"}',
    "fields of the wrong type": b'{"name": 1, "phone": [], "email": {}, "code": 7, "title": true}',
}
BAD_QUERIES = ["upcoming=maybe", "page=0", "page=-1", "page=abc", "page=1.5", f"page={10**7}", "page=%EF%BC%91"]


def api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]


def url_for_rule(app, rule, id_value) -> str:
    """The rule's path with every id argument set to ``id_value`` (which may be out of range)."""
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<id:{name}>", str(id_value))
    return path


@pytest.fixture()
def walk(make_event, make_user):
    """A published event for the ids, and the headers a caller may bring: none, or a staff token."""
    event = make_event()
    staff_token = token_for(make_user(Role.STAFF))
    return event, [{}, bearer(staff_token)]


def test_the_walk_covers_every_api_route(app):
    assert {rule.endpoint for rule in api_rules(app)} >= {"events_api.events", "events_api.event",
                                                          "events_api.register", "events_api.checkin"}


def test_methods_a_route_does_not_take_are_json_405_with_allow(app, client, walk):
    event, headers_list = walk
    methods_of_path: dict[str, set[str]] = {}  # an address may take its methods from several rules
    for rule in api_rules(app):
        methods_of_path.setdefault(url_for_rule(app, rule, event.id), set()).update(rule.methods)
    for url, methods in methods_of_path.items():
        for method in sorted(METHODS - methods):
            for headers in headers_list:
                response = client.open(url, method=method, headers=headers)
                assert_api_error(response, 405)
                assert set(response.headers["Allow"].replace(" ", "").split(",")) >= methods - {"OPTIONS"}
    assert written()["registrations"] == 0


@pytest.mark.parametrize("id_value", [0, MAX_ID + 1, 987654, "abc", "1.0", "-1"])
def test_ids_that_name_nothing_are_json_404(app, client, walk, id_value):
    _event, headers_list = walk
    for rule in api_rules(app):
        if not rule.arguments:
            continue
        for method in sorted(rule.methods & METHODS):
            for headers in headers_list:
                response = client.open(url_for_rule(app, rule, id_value), method=method, headers=headers,
                                       json={"name": "张三", "phone": "13800000001"})
                # An id that could name something, asked without a token where one is needed: 401 first.
                # A staff token on a route staff can never use (an expert's own reviews): 403 first.
                routable = str(id_value).isdigit() and 1 <= int(id_value) <= MAX_ID
                view = app.view_functions[rule.endpoint]
                needs_token = view_token_scope(view) is not None
                never_staffs = needs_token and Role.STAFF not in PERMISSIONS[view.required_permission].roles
                expected = 404 if not routable else 401 if needs_token and not headers else 403 if never_staffs else 404
                assert_api_error(response, expected)
    assert written()["registrations"] == 0


@pytest.mark.parametrize("path", ["/api/", "/api/v1", "/api/v1/", "/api/v2/events", "/api/v1/events/", "/api/v1/x",
                                  "/api/v1/events/1/registrations/2", "/api/v1/checkins/ABC"])
def test_unknown_api_addresses_are_json_404(client, path):
    for method in ("GET", "POST"):
        assert_api_error(client.open(path, method=method), 404)


@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_bodies_are_json_4xx_and_write_nothing(app, client, walk, case):
    event, headers_list = walk
    expected = 413 if case == "too large" else 400
    for rule in api_rules(app):
        if "POST" not in rule.methods:
            continue
        for headers in headers_list:
            response = client.post(url_for_rule(app, rule, event.id), data=BAD_BODIES[case], headers=headers,
                                   content_type="application/json")
            scope = view_token_scope(app.view_functions[rule.endpoint])
            # No token where one is needed is a 401; then a record the event's id does not name (a job)
            # is a 404, and the staff token (scope checkin) on a route of another scope a 403.
            refused = (401 if scope is not None and not headers else
                       404 if rule.arguments - {"event_id"} else 403 if scope not in (None, "checkin") else None)
            assert_api_error(response, refused or expected)
    assert written() == {"registrations": 0, "checkins": 0, "audit": 1}  # the token's issue only


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_query_parameters_are_json_400(client, walk, query):
    assert_api_error(client.get(f"/api/v1/events?{query}"), 400)


def test_a_form_post_like_a_browser_would_send_is_refused(app, client, walk):
    """A form body (what another site's form could send) is not a JSON object: refused."""
    event, headers_list = walk
    for headers in headers_list:
        response = client.post(f"/api/v1/events/{event.id}/registrations", headers=headers,
                               data={"name": "张三", "phone": "13800000001"})
        assert_api_error(response, 400, "JSON 对象")
    assert written()["registrations"] == 0


def test_a_failure_inside_the_api_is_a_json_500_without_details(database_url, tmp_path):
    fresh = create_app(app_settings(database_url, tmp_path / "instance") | {"TESTING": False})
    fresh.test_client_class = FreshGlobalsClient

    @fresh.get("/api/v1/boom")
    @public
    def boom():
        raise RuntimeError("secret stack detail")

    with fresh.app_context():
        response = fresh.test_client().get("/api/v1/boom")
        db.session.remove()
    assert response.status_code == 500 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["status"] == 500 and "secret" not in response.get_data(as_text=True)


def test_every_api_route_and_method_is_documented(app):
    documentation = (REPO_ROOT / "docs" / "api.md").read_text()
    for rule in api_rules(app):
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<id:{name}>", "<id>")
        for method in sorted(rule.methods & METHODS):
            assert f"`{method} {path}" in documentation, f"{method} {path} is not in docs/api.md"
