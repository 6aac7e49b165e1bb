"""E-mail sent only once the transaction that caused it has committed.

``send`` builds a message in the transaction of the change it reports, so nobody is told
about a change that did not happen. With ``MAIL_SERVER`` set it is stored in the outbox
(``core.outbox``) in that transaction and delivered by SMTP after the commit, by the ``mail``
background job, retried when the server fails: a request never
waits for the mail server (a reset request for a registered address answers as fast as one
for an unknown address). ``wait_until_sent()`` waits until each stored message has had its
attempt. Without ``MAIL_SERVER`` the message is written at once after the commit as an .eml
file into ``MAIL_OUTBOX_DIR`` (development and tests read it there).
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_sqlalchemy.session import Session
from sqlalchemy import event

from conference_app.core import outbox
from conference_app.extensions import db

QUEUE_KEY = "outgoing_mail"


def send(to: str | list[str], subject: str, body: str) -> EmailMessage:
    """Queue a plain-text message; it is delivered after the current transaction commits."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    message["Subject"] = str(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="bast.example.cn")
    message.set_content(str(body))
    db.session.connection()  # a transaction must be open, or a rollback would not drop the message
    if current_app.config["MAIL_SERVER"]:
        outbox.store(message)
    else:
        db.session.info.setdefault(QUEUE_KEY, []).append(message)
    return message


def send_to(user, subject, body) -> EmailMessage:
    """Queue a message to ``user`` in the user's own language, not the sender's.

    ``subject`` and ``body`` are lazy strings (``lazy_gettext`` with their values), read in
    the recipient's locale; the subject starts with the platform's name.
    """
    with force_locale(user.locale):
        return send(user.email, _("Capital Academic Platform") + " - " + str(subject), str(body))


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: ``PUBLIC_BASE_URL`` and the route's path.

    Never built from the request: its Host header is whatever the sender typed, and a reset
    link pointing at another host would hand that host the token.
    """
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _write_to_folder(message: EmailMessage, folder: str) -> None:
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{uuid.uuid4().hex}.eml").write_bytes(message.as_bytes())


def wait_until_sent(app: Flask | None = None, timeout: float | None = None) -> bool:
    """Wait until each message stored for SMTP so far has had its delivery attempt (sent, or
    failed and waiting for a retry). True when it has, False when ``timeout`` seconds passed
    first. Tests and scripts that must see a message delivered call this; requests never do.
    """
    return outbox.wait_until_delivered(app or current_app._get_current_object(), timeout)


@event.listens_for(Session, "after_commit")
def _flush_queue(session) -> None:
    messages = session.info.pop(QUEUE_KEY, [])
    if not messages:
        return
    app = current_app._get_current_object()
    for message in messages:
        try:
            _write_to_folder(message, app.config["MAIL_OUTBOX_DIR"])
        except OSError:
            # The change is committed; a lost notice must not turn it into an error page.
            app.logger.exception("could not send mail to %s", message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _drop_queue(session, previous_transaction) -> None:
    session.info.pop(QUEUE_KEY, None)
