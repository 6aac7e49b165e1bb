"""Publishing (acceptance 1: refused with 3 speakers accepted on site, naming what is missing;
done with 4), the released versions, the event's programme, and who is told of a change."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import unit_of_work
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.events.models import EventPerson, EventStatus, PersonRole
from conference_app.extensions import db
from conference_app.report_sessions.models import ProgrammeVersion, ReportSessionStatus
from conference_app.report_sessions.services import invitations, publishing, sessions
from tests.app.report_sessions.conftest import (
    accept,
    add_talks,
    invite,
    invite_guest,
    make_session,
    ready_session,
)


def publish(session, actor) -> publishing.Release:
    """Publish as a request does: in a unit of work (the audit guard checks it)."""
    with unit_of_work():
        return publishing.publish(session, actor=actor)


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(ProgrammeVersion))


def test_publishing_with_three_speakers_on_site_is_refused_naming_what_is_missing(world):
    session = make_session(world)
    slots = add_talks(session, world, [1, 2, 3, 4])
    speakers = [invite(slot, world) for slot in slots]
    for invitation in speakers[:3]:
        accept(invitation, "on_site")
    accept(speakers[3], "remote")  # a remote speaker does not count
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    with force_locale("en"), pytest.raises(ServiceError) as refused:
        publishing.publish(session, actor=world.organiser)
    assert refused.value.status == 409
    message = refused.value.message
    assert "1 more speakers who accept to speak on site (3 of the 4 needed have)" in message
    assert "a discussion guest who accepts (0 of the 1 needed have)" in message
    db.session.rollback()
    assert versions() == 0 and db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    assert session.status == ReportSessionStatus.DRAFT and session.event.status == EventStatus.DRAFT
    # With a guest, still one speaker short; the Chinese refusal names it too.
    accept(invite_guest(session, world))
    with pytest.raises(ServiceError) as short:
        publishing.publish(session, actor=world.organiser)
    assert "还需1位同意现场报告的报告人" in short.value.message and "交流嘉宾" not in short.value.message
    db.session.rollback()
    # The fourth speaker comes on site after all: published.
    accept(speakers[3], "on_site")
    release = publish(session, world.organiser)
    assert session.status == ReportSessionStatus.PUBLISHED and session.event.status == EventStatus.PUBLISHED
    assert release.version.number == 1 and versions() == 1
    assert publishing.missing_for_publishing(session) == []


def test_a_release_freezes_the_programme_and_writes_the_events_people(world, outbox):
    session, speakers, guest = ready_session(world)
    release = publish(session, world.organiser)
    programme = release.version.programme
    assert [slot["kind"] for slot in programme["slots"]] == ["talk"] * 4 + ["discussion"]
    assert [slot["speaker"]["name"] for slot in programme["slots"][:4]] == ["王1首", "王2首", "王3首", "王4首"]
    assert programme["guests"][0]["name"] == "钱嘉宾" and programme["moderator"]["name"] == "赵主持"
    assert programme["slots"][1]["starts_at"] == programme["slots"][0]["ends_at"]
    assert release.version.created_by_id == world.organiser.id
    people = {(str(p.role), p.name, p.on_site) for p in db.session.scalars(
        select(EventPerson).filter_by(event_id=session.event_id))}
    assert people == {("chair", "赵主持", True), ("guest", "钱嘉宾", True),
                      *{("speaker", f"王{n}首", True) for n in range(1, 5)}}
    # Everyone on the programme is told it is published, with their time.
    told = {message["To"] for message in outbox() if "已发布" in str(message["Subject"])}
    assert told == {invitation.email for invitation in [*speakers, guest]}
    entry = db.session.scalar(select(AuditEntry).filter_by(action="report_session.published"))
    assert entry.details["version"] == 1 and sorted(entry.details["notified"]["added"]) == sorted(
        invitation.id for invitation in [*speakers, guest])
    assert not publishing.has_unpublished_changes(session)


def test_a_change_after_publishing_is_the_next_version_and_tells_those_affected(world, outbox):
    session, speakers, guest = ready_session(world, speakers=5)
    publish(session, world.organiser)
    first_programme = sessions.latest_version(session).programme
    with pytest.raises(ServiceError) as unchanged:
        publishing.publish(session, actor=world.organiser)
    assert unchanged.value.status == 409 and "未发生变化" in unchanged.value.message
    db.session.rollback()
    outbox_before = len(outbox())
    # The first two talks swap places; the fifth speaker is withdrawn (told with the release).
    talks = [entry.slot for entry in sessions.schedule(session)]
    with unit_of_work():
        sessions.reorder_slots(session, [talks[1].id, talks[0].id, *[slot.id for slot in talks[2:]]],
                               actor=world.organiser)
        invitations.withdraw(speakers[4], actor=world.organiser, comment="日程调整")
    assert len(outbox()) == outbox_before  # not yet: the invitee is told when the change is published
    assert publishing.has_unpublished_changes(session)
    release = publish(session, world.organiser)
    assert release.version.number == 2 and sessions.version_of(session, 1).programme == first_programme
    assert sorted(release.changed) == sorted([speakers[0].id, speakers[1].id])
    # The fifth talk stays, its speaker to be confirmed: the discussion keeps its time, so the
    # two swapped speakers and the withdrawn one are told, the guest is not.
    assert release.removed == [speakers[4].id] and release.added == []
    assert release.talks_without_speaker == 1
    mails = outbox()[outbox_before:]
    assert {message["To"] for message in mails} == {speakers[0].email, speakers[1].email, speakers[4].email}
    changed_mail = next(message for message in mails if message["To"] == speakers[0].email)
    assert "有变化" in str(changed_mail["Subject"]) and "原为" in changed_mail.get_content()
    entry = db.session.scalar(select(AuditEntry).filter_by(action="report_session.republished"))
    assert entry.details["version"] == 2 and entry.details["notified"]["removed"] == [speakers[4].id]
    assert "王5首" not in {p.name for p in db.session.scalars(select(EventPerson).filter_by(
        event_id=session.event_id, role=PersonRole.SPEAKER))}


def test_a_speaker_who_declines_after_publishing_is_not_told_again(world, outbox):
    session, speakers, _guest = ready_session(world, speakers=5)
    publish(session, world.organiser)
    with unit_of_work():
        invitations.decline(invitations.invitation_token(speakers[4]), note="临时有事")
    before = len(outbox())
    release = publish(session, world.organiser)
    assert release.removed == [] and len(outbox()) == before


def test_only_organisers_publish(world, make_user):
    session, _speakers, _guest = ready_session(world)
    with pytest.raises(ServiceError) as refused:
        publishing.publish(session, actor=make_user(Role.SOCIETY))
    assert refused.value.status == 403
    db.session.rollback()
    assert publish(session, world.staff).version.number == 1
