"""The outbox of mail sent by SMTP: one row per message, written in the transaction that sends it.

With ``MAIL_SERVER`` set, ``core.mail.send`` stores each message here, so a rollback leaves
none. After the commit a delivery takes the due rows one by one (a conditional update claims
each, so two deliveries never send one message twice), sends it and marks it sent; a failed
attempt is logged and tried again after ``MAIL_RETRY_SECONDS``, doubling each time, until
``MAIL_MAX_ATTEMPTS`` attempts: then the row is failed, for staff to see on the outbox page.

The delivery is the jobs package's ``mail`` job, whose starter that package registers with
``deliver_with`` (core cannot import it: ``jobs/platform_kinds.py``).
The starter is called before the commit of a transaction that stored mail, under a lock
the delivery job takes too when it starts: a transaction that found a delivery job still
queued (and started none) has committed its rows before that job reads them.
"""

from __future__ import annotations

import email
import hashlib
import smtplib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.session import Session
from sqlalchemy import Index, Integer, LargeBinary, String, Text, event, func, or_, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from conference_app.core.db import TitledEnum, UTCDateTime, lock, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db

JOB_KIND = "mail"
JOB_TITLE = _l("Mail delivery")
LOCK_NAME = "mail-outbox-delivery"
DEFAULTS = {"MAIL_RETRY_SECONDS": 30.0, "MAIL_MAX_ATTEMPTS": 5, "MAIL_SEND_LEASE_SECONDS": 300.0}
POLL_SECONDS = 0.5  # how often a delivery waiting for a retry looks again (and whether it should stop)
STORED_KEY = "outbox_stored"
EXTENSION_KEY = "conference_app.outbox"
MAX_ERROR_CHARS = 1000

_start_delivery: Callable[[], None] | None = None


class OutboxState(TitledStrEnum):
    PENDING = "pending", _l("Waiting to be sent")
    SENDING = "sending", _l("Being sent")
    SENT = "sent", _l("Sent")
    FAILED = "failed", _l("Failed")


UNDELIVERED = (OutboxState.PENDING, OutboxState.SENDING)


class OutboxMessage(db.Model):
    """A message to deliver by SMTP, as it will be sent (``message`` holds its bytes)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
    recipient: Mapped[str] = mapped_column(String(1000), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    message: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    state: Mapped[OutboxState] = mapped_column(TitledEnum(OutboxState, 20), default=OutboxState.PENDING,
                                               nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # a pending row's next attempt; a row being sent: when its claim lapses (its sender died)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def audit_label(self) -> str:
        return f"{self.subject} → {self.recipient}"


def setting(name: str):
    """A delivery setting: the app's value, else its default here."""
    return current_app.config.get(name, DEFAULTS[name])


def store(message: EmailMessage) -> OutboxMessage:
    """Add ``message`` to the outbox in the current transaction; it is delivered after the commit."""
    row = OutboxMessage(recipient=str(message["To"])[:1000], subject=str(message["Subject"])[:300],
                        message=message.as_bytes(), state=OutboxState.PENDING, next_attempt_at=utcnow())
    db.session.add(row)
    request_delivery()
    current_app.extensions[EXTENSION_KEY] = True  # this process has mail in the outbox: wait_until_delivered looks
    return row


def request_delivery() -> None:
    """Have the outbox delivered once the current transaction commits (after a retry is scheduled)."""
    db.session.connection()  # a transaction must be open, or a rollback would not drop the request
    db.session.info[STORED_KEY] = True


def deliver_with(start: Callable[[], None] | None) -> None:
    """Register what starts a delivery (the jobs package: a queued ``mail`` job unless one is
    queued already). It is called in the transaction that stored mail, before its commit."""
    global _start_delivery
    _start_delivery = start


# --- delivering ------------------------------------------------------------------------------


def delivery_job(context) -> None:
    """The ``mail`` job: deliver until no message is waiting; progress counts the messages."""
    wait_for_senders()
    counts = deliver(stop=context.cancelled, report=lambda counts: context.progress(
        counts["sent"] + counts["failed"], unit="messages", message=_counts_text(counts)))
    context.log(_counts_text(counts))


def wait_for_senders() -> None:
    """Take and release the senders' lock (``core.db.lock``): a transaction that found this job
    queued has committed. On SQLite it has already: the job's start waited for its write lock."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def deliver(stop: Callable[[], bool] | None = None, report: Callable[[dict], None] | None = None) -> dict:
    """Send every due message, then wait for the retries, until none is waiting or ``stop()``
    says so; ``report(counts)`` after each message. The counts: sent, retried, failed."""
    app = current_app._get_current_object()
    counts = {"sent": 0, "retried": 0, "failed": 0}
    while not (stop and stop()):
        due = _due_ids()
        for row_id in due:
            outcome = deliver_one(app, row_id)
            if outcome is not None:
                counts[outcome] += 1
                if report:
                    report(counts)
            if stop and stop():
                return counts
        next_attempt = _next_attempt()
        if next_attempt is None:
            break
        if not due:
            time.sleep(min(POLL_SECONDS, max(0.0, (next_attempt - utcnow()).total_seconds())))
    return counts


def deliver_one(app: Flask, row_id: int) -> str | None:
    """Claim, send and mark one message: "sent", "retried", "failed", or None (not due any more)."""
    now = utcnow()
    with db.engine.begin() as connection:
        claimed = connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.state.in_(UNDELIVERED),
                   OutboxMessage.next_attempt_at <= now)
            .values(state=OutboxState.SENDING, attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=setting("MAIL_SEND_LEASE_SECONDS")))
            .returning(OutboxMessage.message, OutboxMessage.attempts, OutboxMessage.recipient)).first()
    if claimed is None:
        return None
    data, attempt, recipient = claimed
    mine = (OutboxMessage.id == row_id, OutboxMessage.state == OutboxState.SENDING,
            OutboxMessage.attempts == attempt)
    try:
        send_by_smtp(email.message_from_bytes(data, policy=policy.default), app.config)
    except Exception as error:  # noqa: BLE001 (any failure of the server is logged and retried)
        return _failed(app, mine, recipient, attempt, error)
    with db.engine.begin() as connection:
        connection.execute(update(OutboxMessage).where(*mine).values(
            state=OutboxState.SENT, sent_at=utcnow(), next_attempt_at=None, last_error=None))
    return "sent"


def _failed(app: Flask, mine, recipient: str, attempt: int, error: Exception) -> str:
    reason = (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:MAX_ERROR_CHARS]
    limit = int(setting("MAIL_MAX_ATTEMPTS"))
    if attempt >= limit:
        values = {"state": OutboxState.FAILED, "next_attempt_at": None}
        app.logger.error("could not send mail to %s: failed after %d attempts (%s)", recipient, attempt, reason)
    else:
        delay = float(setting("MAIL_RETRY_SECONDS")) * 2 ** (attempt - 1)
        values = {"state": OutboxState.PENDING, "next_attempt_at": utcnow() + timedelta(seconds=delay)}
        app.logger.warning("could not send mail to %s (attempt %d of %d, next in %g s): %s", recipient, attempt,
                           limit, delay, reason)
    with db.engine.begin() as connection:
        connection.execute(update(OutboxMessage).where(*mine).values(last_error=reason, **values))
    return "failed" if values["state"] == OutboxState.FAILED else "retried"


def send_by_smtp(message: EmailMessage, config) -> None:
    """One message through the configured SMTP server (an error when none is configured)."""
    if not config["MAIL_SERVER"]:
        raise RuntimeError("MAIL_SERVER is not set")
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def _due_ids() -> list[int]:
    with db.engine.connect() as connection:
        return list(connection.scalars(
            select(OutboxMessage.id).where(OutboxMessage.state.in_(UNDELIVERED),
                                           OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)))


def _next_attempt() -> datetime | None:
    """When the next waiting message is due (None: nothing waits)."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.min(OutboxMessage.next_attempt_at))
                                 .where(OutboxMessage.state.in_(UNDELIVERED)))


def _counts_text(counts: dict) -> str:
    return f"{counts['sent']} sent, {counts['retried']} to retry, {counts['failed']} failed"


def wait_until_delivered(app: Flask, timeout: float | None = None) -> bool:
    """Whether no message of the outbox is due or being sent (each has had its attempt),
    waiting at most ``timeout`` seconds. Only asks the database once this process stored mail."""
    if not app.extensions.get(EXTENSION_KEY):
        return True
    deadline = None if timeout is None else time.monotonic() + timeout
    with app.app_context():
        while True:
            with db.engine.connect() as connection:
                busy = connection.scalar(select(func.count()).select_from(OutboxMessage).where(or_(
                    OutboxMessage.state == OutboxState.SENDING,
                    (OutboxMessage.state == OutboxState.PENDING) & (OutboxMessage.next_attempt_at <= utcnow()))))
            if not busy:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


# --- after the commit ------------------------------------------------------------------------


@event.listens_for(Session, "before_commit")
def _start_job(session) -> None:
    """Before the commit of a transaction that stored mail: the registered starter queues a delivery."""
    if _start_delivery is None or session.in_nested_transaction() or not session.info.pop(STORED_KEY, None):
        return
    lock(LOCK_NAME)
    _start_delivery()


@event.listens_for(Session, "after_soft_rollback")
def _drop_request(session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the rows stored before it
        session.info.pop(STORED_KEY, None)
