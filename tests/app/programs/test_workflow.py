"""The application workflow runs through its one table: every state x transition x actor.

For each cell ``APPLICATION.apply`` succeeds exactly when the state is a source of the
transition and the actor holds its permission on that application (409 for a state the
table does not allow, 403 for an actor without the permission), in the service, whatever
the pages show. The expected table is written out here, not derived from the code. The
business guards (deadline, budget, quotas, the notice's end, the signing date) are tested
on their own below and switched off for the walk.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.programs.models import ApplicationStatus
from conference_app.programs.services import agreements, applications, notices, review
from conference_app.programs.workflow import APPLICATION
from tests.app.programs.helpers import category, draft, eligible_organisation, open_call

STATES = [state.value for state in ApplicationStatus]
ACTORS = ("staff", "expert", "analyst", "own_society", "other_society")
STAFF, OWN = {"staff"}, {"own_society"}
EXPECTED = {
    "submit": ({"draft", "returned"}, "submitted", OWN),
    "withdraw": ({"draft", "submitted", "returned"}, "withdrawn", OWN),
    "pass_formal": ({"submitted"}, "expert_review", STAFF),
    "return": ({"submitted"}, "returned", STAFF),
    "reject": ({"submitted"}, "rejected", STAFF),
    "approve": ({"expert_review"}, "approved", STAFF),
    "decline": ({"expert_review"}, "not_approved", STAFF),
    "publish_notice": ({"approved"}, "in_notice", STAFF),
    "conclude_notice": ({"in_notice"}, "agreement", STAFF),
    "withdraw_approval": ({"in_notice"}, "not_approved", STAFF),
    "sign_agreement": ({"agreement"}, "in_progress", STAFF),
    "open_midterm": ({"in_progress"}, "midterm", STAFF),
    "open_acceptance": ({"in_progress", "midterm"}, "acceptance", STAFF),
    "close": ({"acceptance"}, "closed", STAFF),
}


def test_the_table_has_exactly_the_expected_transitions():
    assert {name: (set(t.sources), str(t.target)) for name, t in APPLICATION.transitions.items()} == {
        name: (sources, target) for name, (sources, target, _who) in EXPECTED.items()}


def test_every_state_is_reached_and_left_only_through_the_table():
    targets = {str(t.target) for t in APPLICATION.transitions.values()}
    sources = set().union(*(t.sources for t in APPLICATION.transitions.values()))
    assert targets | {"draft"} == set(STATES)
    assert set(STATES) - sources == {"rejected", "withdrawn", "not_approved", "closed"}  # the ends


@pytest.fixture()
def no_guards(monkeypatch):
    for module, name in ((applications, "submission_refusal"), (applications, "withdrawal_refusal"),
                         (review, "approval_refusal"),
                         (notices, "notice_refusal"), (agreements, "signing_refusal")):
        monkeypatch.setattr(module, name, lambda application: None)


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("state", STATES)
def test_every_transition_and_actor_from_this_state(app, make_user, make_organisation, no_guards, state):
    call = open_call()
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation, is_org_admin=True)
    actors = {"staff": make_user(Role.STAFF), "expert": make_user(Role.EXPERT), "analyst": make_user(Role.ANALYST),
              "own_society": owner, "other_society": make_user("society", organisation=make_organisation())}
    application = draft(organisation, category(call, "B"), owner)
    application.status = state
    db.session.commit()
    application_id = application.id
    for name, (sources, target, who) in EXPECTED.items():
        for actor_kind in ACTORS:
            application = db.session.get(type(application), application_id)
            actor = actors[actor_kind]
            allowed = state in sources and actor_kind in who
            assert (APPLICATION.transition(name) in APPLICATION.allowed(application, actor)) == allowed, \
                (name, actor_kind)
            before = _entries()
            if allowed:
                entry = APPLICATION.apply(application, name, actor=actor, comment="意见")
                db.session.flush()
                assert str(application.status) == target
                assert (entry.from_state, entry.to_state, entry.actor_id, entry.comment) == (state, target, actor.id,
                                                                                             "意见")
                assert _entries() == before + 1
            else:
                with pytest.raises(ServiceError) as refused:
                    APPLICATION.apply(application, name, actor=actor, comment="意见")
                assert refused.value.status == (409 if state not in sources else 403), (name, actor_kind)
            db.session.rollback()
            db.session.expire_all()
            assert str(db.session.get(type(application), application_id).status) == state
            assert _entries() == before


def test_a_required_comment_is_required(app, make_user, make_organisation, no_guards):
    call = open_call()
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    application = draft(organisation, category(call, "B"), owner)
    application.status = "submitted"
    db.session.commit()
    for name in ("return", "reject"):
        with pytest.raises(ServiceError) as refused:
            APPLICATION.apply(application, name, actor=make_user(Role.STAFF), comment="  ")
        assert refused.value.status == 400
        db.session.rollback()
