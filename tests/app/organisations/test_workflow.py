"""The organisation review runs through its transition table: every state x transition x role.

For each cell, ``ORGANISATION.apply`` succeeds exactly when the state is a source of the
transition and the actor holds its permission on that organisation; a success moves the
state and writes one audit entry with from/to, a refusal changes nothing. The expected
answers are written out here, not derived from the table under test.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import commit
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.organisations import services
from conference_app.organisations.models import Organisation, OrganisationStatus
from conference_app.organisations.workflow import ORGANISATION

STATES = [status.value for status in OrganisationStatus]
ACTORS = ["staff", "analyst", "expert", "own_admin", "own_member", "other_admin"]
# Who may take each transition, and from which states.
EXPECTED = {
    "approve": ({"pending", "rejected"}, "approved", {"staff"}),
    "reject": ({"pending"}, "rejected", {"staff"}),
    "resubmit": ({"rejected"}, "pending", {"own_admin"}),
}


def test_the_table_has_exactly_the_expected_transitions():
    assert {name: (set(t.sources), t.target) for name, t in ORGANISATION.transitions.items()} == {
        name: (sources, target) for name, (sources, target, _who) in EXPECTED.items()
    }


def make_actor(kind: str, organisation: Organisation, make_user, make_organisation):
    if kind in ("staff", "analyst", "expert"):
        return make_user(Role(kind))
    home = make_organisation() if kind == "other_admin" else organisation
    return make_user(Role.SOCIETY, organisation=home, is_org_admin=kind != "own_member")


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("actor_kind", ACTORS)
@pytest.mark.parametrize("transition", list(EXPECTED))
@pytest.mark.parametrize("state", STATES)
def test_every_state_transition_and_role(app, make_user, make_organisation, state, transition, actor_kind):
    organisation = make_organisation(status=state)
    actor = make_actor(actor_kind, organisation, make_user, make_organisation)
    sources, target, who = EXPECTED[transition]
    allowed = state in sources and actor_kind in who
    before = entries()
    assert (ORGANISATION.transition(transition) in ORGANISATION.allowed(organisation, actor)) == allowed
    if allowed:
        entry = ORGANISATION.apply(organisation, transition, actor=actor, comment="审核意见")
        db.session.commit()
        db.session.expire_all()
        assert organisation.status == target
        assert (entry.action, entry.from_state, entry.to_state, entry.comment, entry.actor_id) == (
            ORGANISATION.action(ORGANISATION.transition(transition)), state, target, "审核意见", actor.id
        )
        assert entries() == before + 1
    else:
        with pytest.raises(ServiceError) as refused:
            ORGANISATION.apply(organisation, transition, actor=actor, comment="审核意见")
        db.session.rollback()
        assert refused.value.status == (409 if state not in sources else 403)
        assert organisation.status == state and entries() == before


def test_the_service_refuses_a_decision_of_someone_without_the_permission(app, make_user, make_organisation):
    """The rule holds in the service, not only in the page: an expert cannot approve."""
    organisation = make_organisation(status="pending")
    with pytest.raises(ServiceError) as refused:
        services.approve_organisation(organisation, make_user(Role.EXPERT))
    assert refused.value.status == 403


def test_a_rejection_needs_its_reason(app, make_user, make_organisation):
    organisation = make_organisation(status="pending")
    with pytest.raises(ServiceError, match="请填写不予通过的理由"):
        services.reject_organisation(organisation, make_user(Role.STAFF), "   ")


def test_two_staff_approving_at_once_are_serialised(app, make_user, make_organisation):
    """One approval wins; the other is refused with the state the first one left (both backends)."""
    organisation = make_organisation(status="pending")
    first, second = make_user(Role.STAFF), make_user(Role.STAFF)
    ids = (organisation.id, first.id, second.id)
    barrier = threading.Barrier(2)
    outcomes = {}

    def approve(reviewer_id: int) -> None:
        with app.app_context():
            target = db.session.get(Organisation, ids[0])
            reviewer = db.session.get(type(first), reviewer_id)
            barrier.wait()
            try:
                services.approve_organisation(target, reviewer, "同意")
                commit()
                outcomes[reviewer_id] = "done"
            except ServiceError as error:
                db.session.rollback()
                outcomes[reviewer_id] = error.status
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(reviewer_id,)) for reviewer_id in ids[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes.values())) == ["409", "done"]
    db.session.expire_all()
    approvals = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organisation.approved")).all()
    assert len(approvals) == 1 and approvals[0].from_state == "pending"
    assert db.session.get(Organisation, ids[0]).status == "approved"
