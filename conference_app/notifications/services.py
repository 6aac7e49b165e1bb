"""Tell users what concerns them: an in-app notification, a mail in their language with a
link from ``PUBLIC_BASE_URL``, and the mail's line in the log, all in the transaction of the
change (mail leaves only after it commits)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from conference_app.accounts.models import User
from conference_app.core import mail
from conference_app.core.db import utcnow
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.notifications.models import Notification, SentMail


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
        from conference_app.core.db import contains_text

        query = query.where(contains_text(SentMail.recipient, search) | contains_text(SentMail.subject, search))
    return query
