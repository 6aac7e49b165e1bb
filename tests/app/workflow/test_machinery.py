"""The workflow machinery on a table of its own: validation, comments, guards, what is offered."""

from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l

from conference_app.audit.services import action_title, state_title
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, OrganisationStatus
from conference_app.workflow import Transition, Workflow


def strict_table(guard=None) -> Workflow:
    return Workflow(
        Organisation,
        OrganisationStatus,
        [
            Transition("close", _l("Close"), {"pending"}, "rejected", "organisations.review", comment="required",
                       done_title=_l("Closed by the test")),
            Transition("open", _l("Open"), {"rejected"}, "approved", "organisations.review", guard=guard),
        ],
        action_prefix="organisation",
        object_title=_l("Organisation"),
    )


def test_a_table_naming_an_unknown_state_or_permission_is_refused():
    with pytest.raises(ValueError, match="unknown state"):
        Workflow(Organisation, OrganisationStatus, [Transition("x", "X", {"pending"}, "archived", "organisations.review")],
                 action_prefix="organisation", object_title="Organisation")
    with pytest.raises(ValueError, match="unknown permission"):
        Workflow(Organisation, OrganisationStatus, [Transition("x", "X", {"pending"}, "approved", "no.such")],
                 action_prefix="organisation", object_title="Organisation")
    with pytest.raises(ValueError, match="comment"):
        Transition("x", "X", {"pending"}, "approved", "organisations.review", comment="sometimes")


def test_an_unknown_transition_is_a_programming_error(app, make_organisation, make_user):
    with pytest.raises(ValueError, match="no transition 'archive'"):
        strict_table().apply(make_organisation(status="pending"), "archive", actor=make_user(Role.STAFF))


def test_a_required_comment_is_required_and_kept(app, make_organisation, make_user):
    table, staff = strict_table(), make_user(Role.STAFF)
    organisation = make_organisation(status="pending")
    with pytest.raises(ServiceError, match="须填写意见"):
        table.apply(organisation, "close", actor=staff, comment="  ")
    entry = table.apply(organisation, "close", actor=staff, comment="  重复注册  ", details={"ticket": 7})
    assert (organisation.status, entry.comment, entry.details) == ("rejected", "重复注册", {"ticket": 7})
    assert action_title("organisation.close") == "Closed by the test" and state_title("Organisation", "rejected") == "未通过"


def test_a_guard_refuses_with_its_reason_and_is_shown_with_the_offer(app, make_organisation, make_user):
    table = strict_table(guard=lambda organisation: None if organisation.is_bast_member else "须为市科协团体会员")
    staff = make_user(Role.STAFF)
    outsider = make_organisation(status="rejected", is_bast_member=False)
    assert [(t.name, refusal) for t, refusal in table.available(outsider, staff)] == [("open", "须为市科协团体会员")]
    with pytest.raises(ServiceError, match="须为市科协团体会员") as refused:
        table.apply(outsider, "open", actor=staff)
    assert refused.value.status == 409
    db.session.rollback()
    member = make_organisation(status="rejected", is_bast_member=True)
    table.apply(member, "open", actor=staff)
    assert member.status == "approved"


def test_the_state_is_read_from_the_database_not_from_memory(app, make_organisation, make_user):
    """A stale object (someone else decided meanwhile) is refused by the state the database holds."""
    table, staff = strict_table(), make_user(Role.STAFF)
    organisation = make_organisation(status="pending")
    db.session.execute(db.update(Organisation).where(Organisation.id == organisation.id).values(status="approved"))
    with pytest.raises(ServiceError) as refused:
        table.apply(organisation, "close", actor=staff, comment="太晚了")
    assert refused.value.status == 409 and "已通过" in refused.value.message
