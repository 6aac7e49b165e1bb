"""Invitations: the personal link (acceptance 3: an expired or tampered link changes nothing,
accepting twice is idempotent, a token answers only its own invitation), a declined speaker's
next author or result, expiry and reminders from the command line, and the transition table."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask_babel import force_locale
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import SYSTEM_ACTOR
from conference_app.core.db import clock_at, unit_of_work, utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.core.tokens import TokenPurpose
from conference_app.extensions import db
from conference_app.notifications.models import Notification
from conference_app.report_sessions.models import Invitation, InvitationStatus
from conference_app.report_sessions.services import invitations
from conference_app.report_sessions.services.sessions import change_talk_result
from conference_app.report_sessions.workflow import INVITATION
from tests.app.report_sessions.conftest import (
    CORRESPONDING,
    FIRST,
    MIDDLE,
    accept,
    add_talks,
    invite,
    invite_guest,
    make_session,
    result_candidate,
)


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def state(invitation: Invitation) -> tuple:
    db.session.expire_all()
    row = db.session.get(Invitation, invitation.id)
    return row.status, row.attendance, row.answered_at, row.token_nonce


def mailed_token(message) -> str:
    """The token of the personal link in a mail (on PUBLIC_BASE_URL, never the request's host)."""
    found = re.search(r"http://127\.0\.0\.1:5000/report-sessions/invitations/(\S+)", message.get_content())
    assert found is not None, message.get_content()
    return found.group(1)


@pytest.fixture()
def two_invitations(world):
    session = make_session(world)
    first, second = add_talks(session, world, [1, 2])
    return invite(first, world, email="a@example.cn"), invite(second, world, email="b@example.cn")


def test_an_invitation_mails_a_personal_link_on_the_public_address(world, outbox):
    session = make_session(world)
    slot, = add_talks(session, world, [1])
    invitation = invite(slot, world, email="Wang.Shou@Example.CN")
    assert (invitation.name, invitation.institution, invitation.email) == ("王1首", "清华大学", "wang.shou@example.cn")
    message, = outbox()
    body = message.get_content()
    assert message["To"] == "wang.shou@example.cn" and "前沿成果1：拓扑量子材料" in body
    assert invitations.invitation_for_token(mailed_token(message)).id == invitation.id


def test_a_tampered_link_is_refused_clearly_and_changes_nothing(two_invitations):
    invitation, _other = two_invitations
    token = invitations.invitation_token(invitation)
    before, entries = state(invitation), audit_count()
    tampered = [token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token + "x", "", "not-a-token",
                TokenPurpose("event-registration", max_age_seconds=60).issue(invitation.id, invitation.token_nonce)]
    for bad in tampered:
        with force_locale("en"), pytest.raises(ServiceError) as refused:
            invitations.accept(bad, "on_site")
        assert refused.value.status == 404 and "invitation link is invalid" in refused.value.message
        with pytest.raises(ServiceError):
            invitations.decline(bad)
    db.session.rollback()
    assert state(invitation) == before and audit_count() == entries


def test_an_expired_link_is_refused_clearly_and_changes_nothing(two_invitations, monkeypatch):
    invitation, _other = two_invitations
    long_ago = int(time.time()) - (invitations.LINK_DAYS + 1) * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: long_ago)
        old = invitations.invitation_token(invitation)
    before, entries = state(invitation), audit_count()
    with force_locale("en"), pytest.raises(ServiceError) as refused:
        invitations.accept(old, "on_site")
    assert refused.value.status == 410 and "has expired" in refused.value.message
    db.session.rollback()
    assert state(invitation) == before and audit_count() == entries


def test_an_answer_after_the_deadline_is_refused_and_changes_nothing(two_invitations):
    invitation, _other = two_invitations
    token, before, entries = invitations.invitation_token(invitation), state(invitation), audit_count()
    with clock_at(utcnow() + timedelta(days=invitations.DEFAULT_ANSWER_DAYS + 1)):
        with pytest.raises(ServiceError) as late:
            invitations.accept(token, "on_site")
    assert late.value.status == 409
    db.session.rollback()
    assert state(invitation) == before and audit_count() == entries


def test_accepting_twice_is_idempotent_and_attendance_may_change(world, two_invitations):
    invitation, _other = two_invitations
    first = accept(invitation, "on_site")
    assert first.changed and first.invitation.status == InvitationStatus.ACCEPTED
    answered_at, entries = first.invitation.answered_at, audit_count()
    again = accept(invitation, "on_site")
    assert not again.changed and audit_count() == entries
    assert db.session.get(Invitation, invitation.id).answered_at == answered_at
    remote = accept(invitation, "remote")
    assert remote.changed and str(remote.invitation.attendance) == "remote"
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == \
        "invitation.attendance_changed"
    # The organisers are told of each change, not of the repeated answer.
    assert db.session.scalar(select(func.count()).select_from(Notification).filter_by(
        user_id=world.organiser.id)) == 2


def test_declining_twice_is_idempotent_and_a_declined_invitation_cannot_be_accepted(two_invitations):
    invitation, _other = two_invitations
    token = invitations.invitation_token(invitation)
    with unit_of_work():
        assert invitations.decline(token, note="出差").changed
    entries = audit_count()
    assert not invitations.decline(token).changed and audit_count() == entries
    with pytest.raises(ServiceError) as refused:
        invitations.accept(token, "on_site")
    assert refused.value.status == 409


def test_a_token_answers_only_its_own_invitation(world, two_invitations, outbox):
    mine, theirs = two_invitations
    before = state(theirs)
    assert invitations.invitation_for_token(invitations.invitation_token(mine)).id == mine.id
    accept(mine, "on_site")
    assert state(theirs) == before
    # A renewed link replaces the old one: the old token no longer opens the invitation.
    old = invitations.invitation_token(theirs)
    with unit_of_work():
        invitations.renew_link(theirs, actor=world.organiser)
    with pytest.raises(ServiceError) as replaced:
        invitations.accept(old, "on_site")
    assert replaced.value.status == 404
    assert state(theirs)[0] == InvitationStatus.INVITED
    assert invitations.invitation_for_token(mailed_token(outbox()[-1])).id == theirs.id


def test_invitations_are_one_live_per_talk_and_per_person(world):
    session = make_session(world)
    first, second = add_talks(session, world, [1, 2])
    invite(first, world, email="a@example.cn")
    with pytest.raises(ServiceError) as taken:
        invitations.invite_speaker(first, CORRESPONDING, email="c@example.cn", actor=world.organiser)
    assert taken.value.status == 409
    with pytest.raises(ServiceError) as twice:
        invitations.invite_speaker(second, FIRST, email="A@example.cn", actor=world.organiser)
    assert twice.value.status == 409
    with pytest.raises(ServiceError):
        invitations.invite_speaker(second, 2, email="smith@example.cn", actor=world.organiser)  # not of Beijing
    with pytest.raises(ServiceError):
        invitations.invite_speaker(second, FIRST, email="not an address", actor=world.organiser)
    with pytest.raises(ServiceError):
        invitations.invite_speaker(second, FIRST, email="x@example.cn", actor=world.organiser,
                                   deadline=session.event.starts_at.date() + timedelta(days=3))


# --- a declined speaker: the next author, or the next result ------------------------------------------------


def test_a_declined_speaker_offers_the_next_author_then_the_next_result(world):
    session = make_session(world)
    slot, = add_talks(session, world, [1])
    order = []
    for author in (FIRST, CORRESPONDING, MIDDLE):
        invitation = invite(slot, world, author=author)
        with unit_of_work():
            invitations.decline(invitations.invitation_token(invitation))
        offer = invitations.speaker_offer(slot)
        order.append((offer.kind, offer.result.position, offer.author_index))
    assert order == [("author", 1, CORRESPONDING), ("author", 1, MIDDLE), ("result", 2, FIRST)]
    # The organisers were told, each time with the offer.
    with force_locale("zh_CN"):
        bodies = list(db.session.scalars(select(Notification.body).filter_by(user_id=world.organiser.id)
                                         .order_by(Notification.id)))
    assert "张1通" in bodies[0] and "李1中" in bodies[1] and "前沿成果2" in bodies[2]
    # The talk takes the next result, and its first author is invited.
    change_talk_result(slot, result_candidate(world, 2).id, actor=world.organiser)
    assert invite(slot, world).name == "王2首"


# --- the command line ------------------------------------------------------------------------------------


def test_flask_invitations_expire_marks_overdue_ones_as_the_system(app, world, outbox):
    session = make_session(world)
    slot, other = add_talks(session, world, [1, 2])
    overdue, waiting = invite(slot, world), invite(other, world)
    overdue.deadline = overdue.deadline - timedelta(days=invitations.DEFAULT_ANSWER_DAYS + 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["invitations", "expire"])
    assert result.exit_code == 0 and "1 invitation(s) expired" in result.output
    db.session.expire_all()
    assert db.session.get(Invitation, overdue.id).status == InvitationStatus.EXPIRED
    assert db.session.get(Invitation, waiting.id).status == InvitationStatus.INVITED
    entry = db.session.scalar(select(AuditEntry).filter_by(action="invitation.expired"))
    assert entry.actor_label == SYSTEM_ACTOR and entry.object_id == str(overdue.id)
    note = db.session.scalar(select(Notification).filter_by(user_id=world.organiser.id).order_by(
        Notification.id.desc()).limit(1))
    assert "王1首" in note.body and "张1通" in note.body  # the next author to ask
    assert app.test_cli_runner().invoke(args=["invitations", "expire"]).output.startswith("0 ")
    # Invited again: a new deadline and a new link.
    old_token = invitations.invitation_token(db.session.get(Invitation, overdue.id))
    with unit_of_work():
        invitations.reinvite(db.session.get(Invitation, overdue.id), actor=world.organiser)
    with pytest.raises(ServiceError):
        invitations.invitation_for_token(old_token)
    assert db.session.get(Invitation, overdue.id).status == InvitationStatus.INVITED


def test_flask_invitations_remind_reminds_open_ones_every_few_days_at_most_three_times(app, world, outbox):
    session = make_session(world)
    slot, = add_talks(session, world, [1])
    invitation = invite(slot, world)
    guest = invite_guest(session, world)
    accept(guest)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["invitations", "remind"]).output.startswith("0 ")  # sent just now
    for _turn in range(4):
        db.session.get(Invitation, invitation.id).sent_at = utcnow() - timedelta(days=10)
        row = db.session.get(Invitation, invitation.id)
        row.last_reminded_at = row.last_reminded_at and utcnow() - timedelta(days=4)
        db.session.commit()
        runner.invoke(args=["invitations", "remind"])
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).reminders_sent == 3
    reminders = [m for m in outbox() if m["To"] == invitation.email]
    assert len(reminders) == 4  # the invitation and three reminders
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(
        action="invitation.reminded", actor_label=SYSTEM_ACTOR)) == 3
    assert runner.invoke(args=["invitations", "remind", "--every-days", "0"]).exit_code == 1


# --- the transition table ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state_", list(InvitationStatus))
@pytest.mark.parametrize("name", list(INVITATION.transitions))
@pytest.mark.parametrize("role", ["organiser", "stranger"])
def test_every_state_transition_and_role(world, make_user, state_, name, role):
    session = make_session(world)
    slot, = add_talks(session, world, [1])
    invitation = invite(slot, world)
    invitation.status = state_
    overdue = name == "expire"
    if overdue:
        invitation.deadline = invitation.deadline - timedelta(days=invitations.DEFAULT_ANSWER_DAYS + 1)
    db.session.commit()
    transition = INVITATION.transition(name)
    actor = world.organiser if role == "organiser" else make_user(Role.SOCIETY)
    allowed = str(state_) in transition.sources and (transition.permission is None or role == "organiser")
    if allowed:
        INVITATION.apply(invitation, name, actor=actor if transition.permission else None)
        assert str(invitation.status) == transition.target
    else:
        with pytest.raises(ServiceError) as refused:
            INVITATION.apply(invitation, name, actor=actor if transition.permission else None)
        assert refused.value.status in (403, 409)
