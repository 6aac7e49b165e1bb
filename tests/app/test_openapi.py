"""The OpenAPI document of the JSON API (``GET /api/v1/openapi.json``, generated from the views'
declarations) and a property-based run over it with schemathesis: every operation, a bounded
number of examples each, as anonymous callers and with tokens of each scope for staff, an
analyst and an expert, over an event with a registration, a selection round with candidates and
an open round of review, a queued job. No answer is a 5xx, every status is documented and every body matches
its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy import select

from conference_app.accounts.models import TokenScope
from conference_app.accounts.tokens import view_token_scope
from conference_app.core.api import API_PREFIX, openapi_path, view_operation
from conference_app.core.permissions import Role
from conference_app.events.services import registrations
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs.models import Job, JobState
from conference_app.panels import review
from conference_app.panels.models import Review
from tests.app.events.api_helpers import bearer, token_for
from tests.app.jobs import kinds_for_tests  # noqa: F401  (registers test.count, which the API may start)
from tests.app.panels.conftest import (  # noqa: F401  (fixtures)
    five_experts,
    open_panel,
    review_ranking_output,
    review_staff,
)

DOCUMENT = f"{API_PREFIX}/openapi.json"
EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(API_PREFIX + "/")]


@pytest.fixture()
def world(app, make_user, make_event, open_panel, five_experts, review_staff):
    """Records for the operations to find (ids by path parameter name, a registration code), and
    the headers a caller may bring to an operation of each scope: that scope's tokens of the user
    it is for first, then those of the others (staff, an analyst, an expert on the panel), a token
    of another scope, none."""
    event = make_event(capacity=3)
    registration = registrations.register(event, {"name": "张三", "phone": "13800000001"})
    triage = review.create_round(open_panel, "triage", five_experts[0], blind=True)
    db.session.commit()
    expert, analyst = five_experts[1], make_user(Role.ANALYST)
    users = {TokenScope.CHECKIN: [review_staff, analyst, expert], TokenScope.REVIEW: [expert, review_staff, analyst],
             TokenScope.SELECTION: [analyst, review_staff, expert], TokenScope.JOBS: [analyst, review_staff, expert]}
    # The analyst's job, queued but never handed to a worker: there to be read and cancelled.
    job = Job(kind="test.wait", params={}, user_id=analyst.id, state=JobState.QUEUED, progress={}, outputs=[])
    db.session.add(job)
    db.session.commit()
    tokens = {scope: [token_for(user, scope.value, "openapi") for user in users[scope]] for scope in TokenScope}
    headers = {}
    for scope in TokenScope:
        other = next(other for other in TokenScope if other != scope)
        headers[scope] = [*map(bearer, tokens[scope]), bearer(tokens[other][0]), {}]
    ids = {
        "event_id": [event.id],
        "review_round_id": [triage.id],
        "review_id": list(db.session.scalars(select(Review.id).filter_by(review_round_id=triage.id)
                                             .order_by(Review.user_id != expert.id, Review.position).limit(3))),
        "round_id": [open_panel.round_id],
        "job_id": [job.id],
    }
    return ids, headers, registration.code


def known_good_body(operation, code: str, data):
    """A body that can succeed, for the operations whose rules a schema cannot say (a registered
    code, a valid mobile number); None for the others (the generated body may succeed)."""
    if operation.path.endswith("/checkins"):
        return {"code": code}
    if operation.path == f"{API_PREFIX}/jobs" and operation.method.upper() == "POST":
        return {"kind": "test.count", "params": {"steps": data.draw(st.integers(1, 3), label="steps")}}
    if operation.path.endswith("/registrations"):
        return {"name": "李四", "phone": f"139{data.draw(st.integers(0, 9), label='phone'):08d}"}
    return None


def test_the_document_is_openapi_that_schemathesis_loads_and_lists_every_api_rule(app, client):
    response = client.get(DOCUMENT)
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    loaded = [result.ok() for result in schema.get_all_operations()]  # .ok() raises for an invalid operation
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(method, openapi_path(rule.rule)) for rule in api_rules(app)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    # schemathesis leaves out the document's own address
    assert {(operation.method.upper(), operation.path) for operation in loaded} == documented - {("GET", DOCUMENT)}
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        assert view_operation(view) is not None, f"{rule.rule} declares no @api_operation"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][openapi_path(rule.rule)][method.lower()]
            assert operation.get("x-token-scope") == view_token_scope(view)
            assert ("security" in operation) == (view_token_scope(view) is not None)


def test_the_document_names_the_errors_each_operation_can_answer(client):
    paths = client.get(DOCUMENT).get_json()["paths"]
    statuses = {(method, path): set(operation["responses"]) for path, item in paths.items()
                for method, operation in item.items()}
    assert statuses["get", "/api/v1/events"] == {"200", "400", "429"}
    assert statuses["get", "/api/v1/events/{event_id}"] == {"200", "404", "429"}
    assert statuses["post", "/api/v1/checkins"] == {"200", "400", "401", "403", "404", "409", "413", "429"}
    assert statuses["get", "/api/v1/selection-rounds/{round_id}"] == {"200", "401", "403", "404", "429"}
    assert paths["/api/v1/events/{event_id}"]["get"]["parameters"] == [{
        "name": "event_id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
        "description": "A record's id: a whole number from 1 to 2147483647 (anything else is a 404).",
    }]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented_for_generated_requests(app, world, mode):
    """Positive: requests the document allows; negative: requests it does not (each must be refused
    with a documented error, never a 5xx)."""
    ids, headers_by_scope, code = world
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    client = app.test_client()  # a fresh ``g`` for every request, as in production
    answered: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        scope = operation.definition.raw.get("x-token-scope")
        header_choices = headers_by_scope[TokenScope(scope)] if scope else [{}]

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def answers_as_documented(case, data):
            # Half the examples are requests that can succeed: existing records, a body the rules
            # accept and the token that may use them, together (drawn apart, they met too rarely
            # for every operation to succeed in 25 examples); the others draw each part freely.
            if data.draw(st.booleans(), label="a request that can succeed"):
                for name in case.path_parameters or {}:
                    if name in ids:
                        case.path_parameters[name] = ids[name][0]
                body = known_good_body(operation, code, data)
                if body is not None:
                    case.body = body
                headers = header_choices[0]
            else:
                for name in case.path_parameters or {}:
                    if name in ids and data.draw(st.booleans(), label=f"an existing {name}"):
                        case.path_parameters[name] = data.draw(st.sampled_from(ids[name]), label=name)
                headers = data.draw(st.sampled_from(header_choices))
            response = case.call_and_validate(session=client, headers=headers, checks=CHECKS)
            answered.setdefault(operation.label, set()).add(response.status_code)

        answers_as_documented()
    assert runner.wait_until_idle(app, timeout=60)  # the jobs it started have run
    assert len(answered) == len(list(schema.get_all_operations()))
    if mode == GenerationMode.POSITIVE:  # the data let every operation succeed, not only refuse
        assert {label for label, statuses in answered.items() if not statuses & {200, 201}} == set(), answered
