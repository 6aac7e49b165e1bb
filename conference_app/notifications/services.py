"""Tell users what concerns them: an in-app notification, a mail in their language with a
link from ``PUBLIC_BASE_URL``, and the mail's line in the log, all in the transaction of the
change (mail leaves only after it commits). Staff read the mail outbox (``core.outbox``): what
waits, what was sent, what failed, and retry a failed mail."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from conference_app.accounts.models import User
from conference_app.audit.services import (
    record,
    register_action_titles,
    register_object_type_titles,
    register_state_titles,
)
from conference_app.core import mail, outbox
from conference_app.core.db import contains_text, utcnow
from conference_app.core.outbox import OutboxMessage, OutboxState
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.notifications.models import Notification, SentMail

register_object_type_titles({"OutboxMessage": _l("Outgoing mail")})
register_state_titles("OutboxMessage", OutboxState.titles())
register_action_titles({"mail.retried": _l("Delivery of a failed mail retried"),
                        "mail.delivery_requested": _l("Delivery of the waiting mail requested")})


def notify(users: Iterable[User], subject, body, *, endpoint: str | None = None, **values) -> list[Notification]:
    """Notify each enabled user of ``users`` once: ``subject`` and ``body`` are lazy strings
    read in the recipient's language; ``endpoint`` and ``values`` name the page concerned."""
    link_path = mail.public_url(endpoint, **values) if endpoint else None
    sent, seen = [], set()
    for user in users:
        if user.id in seen or not user.is_enabled:
            continue
        seen.add(user.id)
        with force_locale(user.locale):
            text = str(body) + (f"\n\n{_('Open')}: {link_path}" if link_path else "")
            notification = Notification(user_id=user.id, subject=str(subject)[:300], body=str(body), link=link_path)
        message = mail.send_to(user, subject, text)
        db.session.add_all([notification, SentMail(user_id=user.id, recipient=user.email,
                                                   subject=str(message["Subject"])[:300], body=text)])
        sent.append(notification)
    db.session.flush()
    return sent


def organisation_users(organisation_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id == organisation_id,
                                                      User.role == Role.SOCIETY)))


def staff_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.STAFF)))


def inbox(user: User):
    return select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at.desc(),
                                                                                 Notification.id.desc())


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def mark_all_read(user: User) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))


def mail_log(search: str | None = None):
    query = select(SentMail).order_by(SentMail.created_at.desc(), SentMail.id.desc())
    if search:
        query = query.where(contains_text(SentMail.recipient, search) | contains_text(SentMail.subject, search))
    return query


def outbox_query(state: str | None = None, search: str | None = None):
    """The outbox, newest first; of one state, and matching part of a recipient or subject."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if state:
        query = query.where(OutboxMessage.state == OutboxState(state))
    if search:
        query = query.where(contains_text(OutboxMessage.recipient, search) | contains_text(OutboxMessage.subject, search))
    return query


def outbox_counts() -> list[tuple[OutboxState, int]]:
    """Each state and how many messages of the outbox are in it."""
    counts = dict(db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    return [(state, counts.get(state, 0)) for state in OutboxState]


def retry_mail(message: OutboxMessage, actor: User) -> None:
    """Deliver a failed mail again, from its first attempt, once this unit of work commits."""
    retried = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.state == OutboxState.FAILED)
        .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not retried:
        raise ServiceError(_("Only a mail whose delivery failed can be retried."), 409)
    db.session.expire(message)
    record("mail.retried", message, from_state=OutboxState.FAILED, to_state=OutboxState.PENDING, actor=actor)
    outbox.request_delivery()


def deliver_waiting_mail(actor: User) -> int:
    """Start a delivery of the waiting mail now (one whose delivery job was lost or cancelled);
    how many messages wait."""
    waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.state.in_(outbox.UNDELIVERED)))
    if not waiting:
        raise ServiceError(_("No mail is waiting to be sent."), 409)
    record("mail.delivery_requested", None, object_type="OutboxMessage", object_label=_("Mail outbox"),
           details={"waiting": waiting}, actor=actor)
    outbox.request_delivery()
    return waiting
