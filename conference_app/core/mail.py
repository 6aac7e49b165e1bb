"""E-mail sent only once the transaction that caused it has committed.

``send`` queues a message on the database session; it goes out after a successful commit
and is dropped on rollback, so nobody is told about a change that did not happen. With
``MAIL_SERVER`` set it goes by SMTP, otherwise it is written as an .eml file into
``MAIL_OUTBOX_DIR`` (development and tests read it there).
"""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app
from flask_sqlalchemy.session import Session
from sqlalchemy import event

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
    db.session.info.setdefault(QUEUE_KEY, []).append(message)
    return message


def deliver(message: EmailMessage) -> None:
    """Hand one message to SMTP, or write it to the outbox folder."""
    config = current_app.config
    if config["MAIL_SERVER"]:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(message.as_bytes())


@event.listens_for(Session, "after_commit")
def _flush_queue(session) -> None:
    for message in session.info.pop(QUEUE_KEY, []):
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException):
            # The change is committed; a lost notice must not turn it into an error page.
            current_app.logger.exception("could not send mail to %s", message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _drop_queue(session, previous_transaction) -> None:
    session.info.pop(QUEUE_KEY, None)
