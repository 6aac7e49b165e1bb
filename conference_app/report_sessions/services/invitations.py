"""Invitations to speak (a result's Beijing author) or to join as a discussion guest (an expert
account, or a person typed in), the personal link that answers them, reminders and expiry,
and what to offer when a speaker declines.

**The personal link** is a ``core.tokens.TokenPurpose`` token: signed with the app's
``SECRET_KEY`` under its own salt (itsdangerous' URLSafeTimedSerializer), expiring after
``LINK_DAYS``, naming one invitation and its random ``token_nonce``. Nothing secret is stored
(a stolen database does not yield working links, and no table of tokens is kept); the token
names its invitation, so one invitee's link never reads or answers another's; a changed
nonce (the invitation sent again) kills the old link. A tampered link is refused as invalid
(404), an old one as expired (410); both change nothing. Answering twice the same way
changes nothing the second time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conference_app.audit.services import record, register_action_titles
from conference_app.core import mail
from conference_app.core.db import column_length, lock, utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.core.timeutil import BEIJING, beijing_date, beijing_today
from conference_app.core.tokens import TokenPurpose
from conference_app.extensions import db
from conference_app.notifications.services import notify, organisation_users
from conference_app.panels.models import PanelResult
from conference_app.report_sessions.models import (
    Attendance,
    Invitation,
    InvitationRole,
    InvitationStatus,
    ReportSession,
    Slot,
    SlotKind,
)
from conference_app.report_sessions.services.sessions import (
    beijing_authors,
    latest_version,
    programme_people,
    require_organiser,
    slot_title,
)
from conference_app.report_sessions.workflow import INVITATION, is_overdue

LINK_DAYS = 180
LINK = TokenPurpose("report-session-invitation", max_age_seconds=LINK_DAYS * 24 * 3600)
DEFAULT_ANSWER_DAYS = 14
REMIND_EVERY_DAYS = 3
MAX_REMINDERS = 3

register_action_titles({
    "invitation.created": _l("Invitation sent"),
    "invitation.attendance_changed": _l("Invitee changed how they take part"),
    "invitation.reminded": _l("Reminder sent"),
    "invitation.link_renewed": _l("Personal link sent again"),
})


# --- the personal link ---------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return LINK.issue(invitation.id, invitation.token_nonce)


def invitation_link(invitation: Invitation) -> str:
    """The invitee's personal link, on ``PUBLIC_BASE_URL`` (never the request's host)."""
    return mail.public_url("report_sessions_public.invitation", token=invitation_token(invitation))


def _nonce_of(invitation_id: int) -> str | None:
    invitation = db.session.get(Invitation, invitation_id)
    return invitation.token_nonce if invitation is not None else None


def invitation_for_token(token: str | None) -> Invitation:
    """The one invitation a personal link names, in whatever state it is now. A link that was
    tampered with (or replaced by a newer one) is a 404 ServiceError, an expired one a 410."""
    invitation_id = LINK.redeem(token or "", _nonce_of)
    if invitation_id is None:
        if _signed_but_expired(token or ""):
            raise ServiceError(_("This invitation link has expired. Please ask the organisers to send it again."), 410)
        raise ServiceError(_("This invitation link is invalid. Please use the link of your invitation mail."), 404)
    return db.session.get(Invitation, invitation_id)


def _signed_but_expired(token: str) -> bool:
    """The link is one we signed, for an invitation as it still is, only too old."""
    serializer = URLSafeTimedSerializer(current_app.secret_key, salt=LINK.salt)
    try:
        invitation_id, nonce = serializer.loads(token)
    except (BadSignature, ValueError, TypeError):
        return False
    return isinstance(invitation_id, int) and nonce == _nonce_of(invitation_id)


# --- telling people --------------------------------------------------------------------------------


def _when(session: ReportSession) -> str:
    event = session.event
    return f"{event.starts_at.astimezone(BEIJING):%Y-%m-%d %H:%M}–{event.ends_at.astimezone(BEIJING):%H:%M}"


def tell_invitee(invitation: Invitation, subject, body) -> None:
    """Mail the invitee in their language (lazy ``subject`` and ``body``); an invitee with an
    enabled account is notified in the platform too (and the mail logged)."""
    user = invitation.user
    if user is not None and user.is_enabled:
        notify([user], subject, body)
    else:
        mail.send_to(invitation, subject, body)


def tell_organisers(session: ReportSession, subject, body) -> None:
    """Notify the users of the project's society (in the platform and by mail)."""
    notify(organisation_users(session.project.organisation_id), subject, body)


def _mail_invitation(invitation: Invitation, *, again: bool = False) -> None:
    session = invitation.session
    event = session.event
    values = dict(name=invitation.name, session=event.title_zh, when=_when(session), venue=event.venue or "",
                  host=session.project.organisation.name_zh, number=session.edition.number,
                  deadline=invitation.deadline.isoformat(), link=invitation_link(invitation))
    if invitation.role == InvitationRole.SPEAKER:
        subject = _l("Invitation to present your work at %(session)s", session=event.title_zh)
        body = _l(
            "Dear %(name)s,\n\n%(host)s invites you to present your work \"%(result)s\" (%(minutes)d minutes) at "
            "%(session)s, %(when)s, %(venue)s, Beijing, during Academic Month %(number)d.\n\n"
            "Please answer by %(deadline)s through your personal link, where you also say whether you will speak "
            "on site or remotely:\n\n%(link)s\n\nThe link is yours alone: please do not forward it.\n",
            result=slot_title(invitation.slot), minutes=invitation.slot.minutes, **values)
    else:
        subject = _l("Invitation to join %(session)s as a discussion guest", session=event.title_zh)
        body = _l(
            "Dear %(name)s,\n\n%(host)s invites you to join %(session)s, %(when)s, %(venue)s, Beijing, during "
            "Academic Month %(number)d, as a discussion guest who talks with the speakers about their frontier "
            "results.\n\nPlease answer by %(deadline)s through your personal link, where you also say whether you "
            "will come on site or join remotely:\n\n%(link)s\n\nThe link is yours alone: please do not forward it.\n",
            **values)
    if again:
        subject = _l("Reminder: %(subject)s", subject=subject)
    tell_invitee(invitation, subject, body)


# --- inviting ----------------------------------------------------------------------------------------


def _email(value: str | None) -> str:
    try:
        email = validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ServiceError(_("Please enter a valid e-mail address.")) from None
    if len(email) > column_length(Invitation, "email"):
        raise ServiceError(_("Please enter a valid e-mail address."))
    return email


def _deadline(session: ReportSession, deadline: date | None) -> date:
    """The last day to answer: by default ``DEFAULT_ANSWER_DAYS`` from today, never after the
    session's day, never in the past."""
    today, session_day = beijing_today(), beijing_date(session.event.starts_at)
    if session_day < today:
        raise ServiceError(_("The session has taken place: nobody can be invited to it any more."), 409)
    if deadline is None:
        return min(today + timedelta(days=DEFAULT_ANSWER_DAYS), session_day)
    if not isinstance(deadline, date) or not today <= deadline <= session_day:
        raise ServiceError(_("The deadline to answer is a day from today to the session's day (%(day)s).",
                             day=session_day.isoformat()))
    return deadline


def _locale(locale: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _text(value, label, name: str, *, required: bool = False) -> str | None:
    return clean_text(value, label, max_length=column_length(Invitation, name), required=required)


def _require_new_invitee(session: ReportSession, email: str) -> None:
    taken = next((invitation for invitation in session.invitations
                  if invitation.is_live and invitation.email == email), None)
    if taken is not None:
        raise ServiceError(_("%(name)s (%(email)s) is invited to this session already.", name=taken.name,
                             email=email), 409)


_TAKEN = {"slot_id": _l("This talk has an open or accepted invitation already."),
          "email": _l("This person is invited to this session already.")}


def _send(invitation: Invitation, actor) -> Invitation:
    flush(_TAKEN)
    record("invitation.created", invitation, actor=actor, to_state=invitation.status, details={
        "session_id": invitation.session_id, "role": invitation.role.value, "slot_id": invitation.slot_id,
        "candidate_id": invitation.candidate_id, "author_index": invitation.author_index,
        "user_id": invitation.user_id, "email": invitation.email, "deadline": invitation.deadline.isoformat()})
    _mail_invitation(invitation)
    return invitation


def invite_speaker(slot: Slot, author_index: int, *, email: str | None, name: str | None = None,
                   institution: str | None = None, deadline: date | None = None, locale: str | None = None,
                   actor) -> Invitation:
    """Invite the Beijing author ``author_index`` of the talk's result to present it; ``name``
    and ``institution`` default to the work's (an organiser may write the Chinese name)."""
    session = slot.session
    require_organiser(actor, session)
    if slot.kind != SlotKind.TALK or slot.candidate is None:
        raise ServiceError(_("Speakers are invited for talks."))
    author = next((author for author in beijing_authors(slot.candidate) if author.index == author_index), None)
    if author is None:
        raise ServiceError(_("Choose one of the result's Beijing authors."))
    if any(invitation.is_live for invitation in slot.invitations):
        raise ServiceError(_TAKEN["slot_id"], 409)
    email = _email(email)
    _require_new_invitee(session, email)
    invitation = Invitation(
        session=session, role=InvitationRole.SPEAKER, slot=slot, candidate_id=slot.candidate_id,
        author_index=author_index, email=email, locale=_locale(locale), deadline=_deadline(session, deadline),
        name=_text(name or author.name, _("Name"), "name", required=True),
        institution=_text(institution, _("Institution"), "institution")
        or author.institution_text[:column_length(Invitation, "institution")] or None,
        token_nonce=secrets.token_hex(16), invited_by_id=actor.id, status=InvitationStatus.INVITED)
    db.session.add(invitation)
    return _send(invitation, actor)


def invite_guest(session: ReportSession, *, user=None, name: str | None = None, email: str | None = None,
                 institution: str | None = None, deadline: date | None = None, locale: str | None = None,
                 actor) -> Invitation:
    """Invite a discussion guest: an expert account (``user``: name, address and language
    from it) or a person typed in (``name`` and ``email``)."""
    require_organiser(actor, session)
    if user is not None:
        if user.role != Role.EXPERT:
            raise ServiceError(_("Choose an expert's account, or type in the guest's name and e-mail address."))
        name, email, locale = user.name, user.email, user.locale
    email = _email(email)
    _require_new_invitee(session, email)
    invitation = Invitation(
        session=session, role=InvitationRole.GUEST, user_id=user.id if user is not None else None, email=email,
        name=_text(name, _("Name"), "name", required=True),
        institution=_text(institution, _("Institution"), "institution"),
        locale=_locale(locale), deadline=_deadline(session, deadline), token_nonce=secrets.token_hex(16),
        invited_by_id=actor.id, status=InvitationStatus.INVITED)
    db.session.add(invitation)
    return _send(invitation, actor)


def invitation_of(session: ReportSession, invitation_id: int) -> Invitation:
    """The invitation ``invitation_id`` of this session; a 404 ServiceError for another's."""
    invitation = next((invitation for invitation in session.invitations if invitation.id == invitation_id), None)
    if invitation is None:
        raise ServiceError(_("This invitation is not one of this report session's."), 404)
    return invitation


# --- the invitee's answer ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    invitation: Invitation
    changed: bool  # False: the same answer was given before, nothing was written


def _fresh(invitation: Invitation) -> Invitation:
    """The invitation locked and read again: two answers at once are serialised."""
    lock(f"{Invitation.__tablename__}:{invitation.id}")
    db.session.refresh(invitation)
    return invitation


def _note(note: str | None) -> str | None:
    return clean_text(note, _("Message to the organisers"), max_length=2000)


def accept(token: str | None, attendance: str | None, *, note: str | None = None) -> Answer:
    """The invitee accepts through their link, on site or remotely. Accepting again the same
    way changes nothing; an accepted invitee may change between on site and remote."""
    if attendance not in set(Attendance):
        raise ServiceError(_("Please say whether you will take part on site or remotely."))
    invitation = _fresh(invitation_for_token(token))
    attendance, note = Attendance(attendance), _note(note)
    if invitation.status == InvitationStatus.ACCEPTED:
        if invitation.attendance == attendance:
            return Answer(invitation, False)
        before = invitation.attendance
        invitation.attendance = attendance
        flush()
        record("invitation.attendance_changed", invitation, details={
            "invitee": invitation.name, "changes": {"attendance": [before.value if before else None,
                                                                   attendance.value]}})
        _tell_answer(invitation)
        return Answer(invitation, True)
    INVITATION.apply(invitation, "accept", actor=None, comment=note,
                     details={"invitee": invitation.name, "attendance": attendance.value})
    invitation.attendance, invitation.answered_at, invitation.answer_note = attendance, utcnow(), note
    flush()
    _tell_answer(invitation)
    return Answer(invitation, True)


def decline(token: str | None, *, note: str | None = None) -> Answer:
    """The invitee declines through their link (an accepted invitee may still). Declining
    again changes nothing. The organisers are told, with the next speaker to ask."""
    invitation = _fresh(invitation_for_token(token))
    if invitation.status == InvitationStatus.DECLINED:
        return Answer(invitation, False)
    note = _note(note)
    INVITATION.apply(invitation, "decline", actor=None, comment=note, details={"invitee": invitation.name})
    invitation.attendance, invitation.answered_at, invitation.answer_note = None, utcnow(), note
    flush()
    _tell_answer(invitation)
    return Answer(invitation, True)


def _tell_answer(invitation: Invitation) -> None:
    session = invitation.session
    values = dict(name=invitation.name, role=invitation.role.lazy_title, session=session.event.title_zh)
    if invitation.status == InvitationStatus.ACCEPTED:
        subject = _l("%(name)s accepted to take part in %(session)s", **values)
        body = _l("%(name)s accepted to take part in %(session)s as %(role)s: %(attendance)s.", **values,
                  attendance=invitation.attendance.lazy_title)
    else:
        subject = _l("%(name)s declined to take part in %(session)s", **values)
        body = _l("%(name)s declined to take part in %(session)s as %(role)s.", **values)
        offer = speaker_offer(invitation.slot) if invitation.slot is not None else None
        if offer is not None:
            body = LazyString(_paragraphs, body, offer.text)
    tell_organisers(session, subject, body)


def _paragraphs(*parts) -> str:
    return "\n\n".join(str(part) for part in parts)


# --- what to offer when a speaker does not come --------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """Whom to invite next for a talk: another Beijing author of its result (``kind`` author),
    or the next locked result not in the timetable (``kind`` result, with its first Beijing
    author when it has one)."""

    kind: str
    result: PanelResult
    author_index: int | None
    author_name: str | None
    institution: str | None

    @property
    def text(self):
        """The offer in words (a lazy string: read in the recipient's language)."""
        if self.kind == "author":
            return _l("Next author of this result to invite: %(name)s (%(institution)s).", name=self.author_name,
                      institution=self.institution or _l("institution not given"))
        return _l("No other Beijing author of this result is left to invite. The next locked result without a talk "
                  "is No. %(position)d, \"%(title)s\"%(author)s.", position=self.result.position,
                  title=self.result.candidate.title or self.result.candidate.work_id,
                  author=_l(", by %(name)s", name=self.author_name) if self.author_name else "")


def speaker_offer(slot: Slot) -> Offer | None:
    """After a speaker declined or let the deadline pass: the next Beijing author of the talk's
    result not yet asked in this session, else the next locked result (in the panel's order,
    after this one, then from the top) that has no talk; None when the talk has a live
    invitation or nothing is left."""
    session = slot.session
    if slot.kind != SlotKind.TALK or any(invitation.is_live for invitation in slot.invitations):
        return None
    asked = {(invitation.candidate_id, invitation.author_index) for invitation in session.invitations
             if invitation.role == InvitationRole.SPEAKER}
    results = list(db.session.scalars(select(PanelResult).where(PanelResult.panel_id == session.panel_id)
                                      .options(selectinload(PanelResult.candidate)).order_by(PanelResult.position)))
    current = next((result for result in results if result.candidate_id == slot.candidate_id), None)
    if current is not None:
        for author in beijing_authors(current.candidate):
            if (current.candidate_id, author.index) not in asked:
                return Offer("author", current, author.index, author.name, author.institution_text or None)
    talks = {other.candidate_id for other in session.slots if other.kind == SlotKind.TALK}
    after = [result for result in results if current is None or result.position > current.position]
    before = [result for result in results if current is not None and result.position < current.position]
    for result in after + before:
        if result.candidate_id in talks:
            continue
        authors = [author for author in beijing_authors(result.candidate)
                   if (result.candidate_id, author.index) not in asked]
        first = authors[0] if authors else None
        return Offer("result", result, first.index if first else None, first.name if first else None,
                     (first.institution_text or None) if first else None)
    return None


# --- the organisers' steps -------------------------------------------------------------------------


def _in_published_programme(invitation: Invitation) -> bool:
    version = latest_version(invitation.session)
    return version is not None and invitation.id in programme_people(version.programme)


def withdraw(invitation: Invitation, *, actor, comment: str | None = None) -> None:
    """The organisers withdraw an open or accepted invitation. The invitee is told now, or,
    when the published programme lists them, with the next release of the programme."""
    INVITATION.apply(invitation, "withdraw", actor=actor, comment=comment)
    if _in_published_programme(invitation):
        return
    session = invitation.session
    tell_invitee(invitation, _l("Your invitation to %(session)s is withdrawn", session=session.event.title_zh), _l(
        "Dear %(name)s,\n\nthe organisers of %(session)s have withdrawn their invitation. %(comment)s\n\n"
        "Please excuse the trouble.\n", name=invitation.name, session=session.event.title_zh, comment=comment or ""))


def reinvite(invitation: Invitation, *, deadline: date | None = None, actor) -> None:
    """Invite again after the deadline passed without an answer: a new deadline and a new
    link (the old one stops working)."""
    require_organiser(actor, invitation)
    _require_new_invitee(invitation.session, invitation.email)
    if invitation.slot is not None and any(other.is_live for other in invitation.slot.invitations):
        raise ServiceError(_TAKEN["slot_id"], 409)
    new_deadline = _deadline(invitation.session, deadline)
    INVITATION.apply(invitation, "reinvite", actor=actor, details={"deadline": new_deadline.isoformat()})
    invitation.deadline, invitation.token_nonce = new_deadline, secrets.token_hex(16)
    invitation.reminders_sent, invitation.last_reminded_at, invitation.sent_at = 0, None, utcnow()
    flush(_TAKEN)
    _mail_invitation(invitation)


def renew_link(invitation: Invitation, *, actor) -> None:
    """Send an open or accepted invitation's link again as a new link (the old one stops working):
    for a link that went astray."""
    require_organiser(actor, invitation)
    if not invitation.is_live:
        raise ServiceError(_("Only an open or accepted invitation has a link to send."), 409)
    invitation.token_nonce = secrets.token_hex(16)
    flush()
    record("invitation.link_renewed", invitation, actor=actor)
    title = invitation.session.event.title_zh
    tell_invitee(invitation, _l("Your new link for %(session)s", session=title), _l(
        "Dear %(name)s,\n\nhere is your new personal link for your invitation to %(session)s (the previous link "
        "no longer works):\n\n%(link)s\n", name=invitation.name, session=title, link=invitation_link(invitation)))


def remind(invitation: Invitation, *, actor=None) -> None:
    """Send an open invitation again as a reminder (its link unchanged); ``actor`` None is the system."""
    if actor is not None:
        require_organiser(actor, invitation)
    if invitation.status != InvitationStatus.INVITED or is_overdue(invitation):
        raise ServiceError(_("Only an open invitation before its deadline is reminded."), 409)
    invitation.reminders_sent += 1
    invitation.last_reminded_at = utcnow()
    flush()
    record("invitation.reminded", invitation, actor=actor, details={"reminder": invitation.reminders_sent})
    _mail_invitation(invitation, again=True)


# --- the command line: flask invitations expire / remind ---------------------------------------------


def expire_overdue() -> list[Invitation]:
    """Mark every open invitation whose deadline has passed as expired (by the system); each
    session's organisers are told which, with the next speaker to ask."""
    overdue = list(db.session.scalars(
        select(Invitation).where(Invitation.status == InvitationStatus.INVITED, Invitation.deadline < beijing_today())
        .order_by(Invitation.session_id, Invitation.id)))
    for invitation in overdue:
        INVITATION.apply(invitation, "expire", actor=None, details={"deadline": invitation.deadline.isoformat()})
    flush()
    for session, invitations in _by_session(overdue):
        lines = [(invitation, speaker_offer(invitation.slot) if invitation.slot is not None else None)
                 for invitation in invitations]
        tell_organisers(session, _l("Invitations to %(session)s expired without an answer",
                                    session=session.event.title_zh),
                        _l("These invitations to %(session)s had no answer by their deadline:\n\n%(lines)s",
                           session=session.event.title_zh, lines=LazyString(_expired_lines, lines)))
    return overdue


def _expired_lines(lines: list[tuple[Invitation, Offer | None]]) -> str:
    return "\n".join(f"- {invitation.name} ({invitation.role.title})" + (f": {offer.text}" if offer else "")
                     for invitation, offer in lines)


def _by_session(invitations: Iterable[Invitation]) -> list[tuple[ReportSession, list[Invitation]]]:
    grouped: dict[int, tuple[ReportSession, list[Invitation]]] = {}
    for invitation in invitations:
        grouped.setdefault(invitation.session_id, (invitation.session, []))[1].append(invitation)
    return list(grouped.values())


def send_reminders(*, every_days: int = REMIND_EVERY_DAYS, max_reminders: int = MAX_REMINDERS) -> list[Invitation]:
    """Remind every open invitation before its deadline that was sent (or last reminded) at
    least ``every_days`` ago, at most ``max_reminders`` times."""
    if every_days < 1 or max_reminders < 0:
        raise ServiceError(_("Remind at most every day, and a number of times from 0."))
    due_before = utcnow() - timedelta(days=every_days)
    candidates = db.session.scalars(
        select(Invitation).where(Invitation.status == InvitationStatus.INVITED,
                                 Invitation.deadline >= beijing_today(),
                                 Invitation.reminders_sent < max_reminders)
        .order_by(Invitation.id))
    due = [invitation for invitation in candidates
           if (invitation.last_reminded_at or invitation.sent_at) <= due_before]
    for invitation in due:
        remind(invitation)
    return due
