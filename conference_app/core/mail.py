"""E-mail sent only once the transaction that caused it has committed.

``send`` queues a message on the database session; it goes out after a successful commit
and is dropped on rollback, so nobody is told about a change that did not happen. With
``MAIL_SERVER`` set it goes by SMTP from one background thread per application, so a
request never waits for the mail server (a reset request for a registered address answers
as fast as one for an unknown address); a failure there is logged. ``wait_until_sent()``
waits for the messages handed over so far. Without ``MAIL_SERVER`` the message is written
at once as an .eml file into ``MAIL_OUTBOX_DIR`` (development and tests read it there).
"""

from __future__ import annotations

import smtplib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_sqlalchemy.session import Session
from sqlalchemy import event

from conference_app.extensions import db

QUEUE_KEY = "outgoing_mail"
EXTENSION_KEY = "conference_app.mail"
_sender_lock = threading.Lock()


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


def _smtp_settings(config) -> dict:
    keys = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD")
    return {key: config[key] for key in keys}


def _send_by_smtp(message: EmailMessage, settings: dict) -> None:
    with smtplib.SMTP(settings["MAIL_SERVER"], settings["MAIL_PORT"], timeout=30) as smtp:
        if settings["MAIL_USE_TLS"]:
            smtp.starttls()
        if settings["MAIL_USERNAME"]:
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
        smtp.send_message(message)


def _write_to_outbox(message: EmailMessage, folder: str) -> None:
    outbox = Path(folder)
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(message.as_bytes())


def _sender(app: Flask) -> ThreadPoolExecutor:
    """The app's one mail thread, started on first use (so in the serving process, not before a fork)."""
    with _sender_lock:
        executor = app.extensions.get(EXTENSION_KEY)
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
            app.extensions[EXTENSION_KEY] = executor
        return executor


def _send_in_background(app: Flask, message: EmailMessage) -> None:
    settings, logger, recipients = _smtp_settings(app.config), app.logger, message["To"]

    def send_one() -> None:
        try:
            _send_by_smtp(message, settings)
        except Exception:
            # The change is committed and the request answered: log, never raise.
            logger.exception("could not send mail to %s", recipients)

    try:
        _sender(app).submit(send_one)
    except RuntimeError:  # the interpreter is shutting down
        logger.exception("could not send mail to %s", recipients)


def wait_until_sent(app: Flask | None = None, timeout: float | None = None) -> bool:
    """Wait until the mail handed to the background thread so far has been sent (or failed).

    True when it has, False when ``timeout`` seconds passed first. Tests and scripts that
    must see a message delivered call this; requests never do.
    """
    app = app or current_app._get_current_object()
    executor = app.extensions.get(EXTENSION_KEY)
    if executor is None:
        return True
    marker = executor.submit(lambda: None)  # one worker: done once everything before it is
    try:
        marker.result(timeout=timeout)
    except FutureTimeout:
        return False
    return True


@event.listens_for(Session, "after_commit")
def _flush_queue(session) -> None:
    messages = session.info.pop(QUEUE_KEY, [])
    if not messages:
        return
    app = current_app._get_current_object()
    for message in messages:
        if app.config["MAIL_SERVER"]:
            # SMTP takes a noticeable time (which would tell whether an account exists): the
            # request does not wait for it.
            _send_in_background(app, message)
            continue
        try:
            _write_to_outbox(message, app.config["MAIL_OUTBOX_DIR"])
        except OSError:
            # The change is committed; a lost notice must not turn it into an error page.
            app.logger.exception("could not send mail to %s", message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _drop_queue(session, previous_transaction) -> None:
    session.info.pop(QUEUE_KEY, None)
