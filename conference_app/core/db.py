"""The database side every domain shares: column types, the one commit of a request, locks.

**One unit of work per user action.** A request's changes are committed in one place,
``end_request`` (an ``after_request`` hook): on a response below 400, or when the view called
``keep_changes()`` (a failed login must still count); anything else is rolled back, so a
refused request leaves nothing written. The command line and the demo loader use
``unit_of_work()``. Nothing else in the application calls ``commit`` (a test checks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, ClassVar

from flask import Flask, g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.session import Session
from sqlalchemy import DateTime, Integer, String, event, inspect, text, types
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from werkzeug.routing import IntegerConverter

from conference_app.extensions import db

# Set in the session's info while the pipeline or unit_of_work commits (the audit guard
# of the tests checks only those commits, not a test's own factory commits).
UNIT_OF_WORK_KEY = "unit_of_work_commit"


_CLOCK: ContextVar[datetime | None] = ContextVar("clock", default=None)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the moment ``clock_at`` set, inside it)."""
    moment = _CLOCK.get()
    return moment if moment is not None else datetime.now(timezone.utc)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the block as if it were ``moment`` (timezone-aware): the demo replays a year of
    decisions through the services at the dates they were taken. What the block wrote is
    flushed before the clock returns, so column defaults read the moment. Never used by requests."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs a timezone-aware moment")
    token = _CLOCK.set(moment.astimezone(timezone.utc))
    try:
        yield
        db.session.flush()  # the block's rows take their timestamps (column defaults) now
    finally:
        _CLOCK.reset(token)


class UTCDateTime(types.TypeDecorator):
    """Stored as naive UTC on every backend, always returned timezone-aware.

    SQLite keeps no zone, so without this a value would come back naive there and aware
    on PostgreSQL. Templates show it in Asia/Shanghai through Flask-Babel.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware values")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class TitledEnum(types.TypeDecorator):
    """A ``TitledStrEnum`` stored as its value in a string column, read back as the member.

    ``organisation.status.title`` then reads in the user's language, and because members
    are ``str``, ``organisation.status == "approved"`` keeps working. A value the enum does
    not know is refused when written, so a typo cannot reach the database.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type, length: int = 40, **kwargs: Any) -> None:
        super().__init__(length, **kwargs)
        self.enum_class = enum_class

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value)


class TimestampMixin:
    """created_at / updated_at maintained by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class AuditedMixin:
    """Rows whose every change must come with an audit entry in the same unit of work.

    ``__audit_exempt__`` names columns that change without a decision (a login time, the
    chosen language); the tests' audit guard ignores changes to those alone.
    """

    __audit_exempt__: ClassVar[frozenset[str]] = frozenset({"updated_at"})


# --- optimistic locking ------------------------------------------------------------------

STALE_EDIT_MESSAGE = _l("Someone else changed this record since you opened it: reload the page and edit again.")


class VersionedMixin:
    """Rows people edit through forms: a stale edit is refused instead of overwriting.

    ``version`` moves on by one at every flush that changes a column other than the
    ``__audit_exempt__`` ones (a login time, the language: those change nothing anyone
    edits, so they leave open forms valid). Every UPDATE of the row says ``WHERE version =
    <the version read>`` (SQLAlchemy's ``version_id_col``), so a write based on a read that
    another transaction has overtaken fails with ``StaleDataError`` instead of overwriting;
    a form carries the version it was opened at (``core.forms.VersionedForm``) for the
    check before the write.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        # The counter is moved by _move_versions below, not by SQLAlchemy at every UPDATE.
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}


def _edited_columns(obj) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}


@event.listens_for(Session, "before_flush")
def _move_versions(session, flush_context, instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, VersionedMixin):
            edited = _edited_columns(obj) - getattr(obj, "__audit_exempt__", frozenset())
            if edited and "version" not in edited:
                obj.version += 1


def column_length(model: type, name: str) -> int | None:
    """The declared length of a string column (forms and services use the same limits)."""
    return getattr(model.__table__.c[name].type, "length", None)


# --- the unit of work -----------------------------------------------------------------


def keep_changes() -> None:
    """Commit this request's changes although it answers with an error status.

    For the rare refusal that must leave a trace: a failed login counts towards the locks.
    """
    g.keep_changes = True


def commit() -> None:
    """Commit the session as the end of a unit of work (the pipeline and ``unit_of_work`` only)."""
    db.session.info[UNIT_OF_WORK_KEY] = True
    try:
        db.session.commit()
    finally:
        db.session.info.pop(UNIT_OF_WORK_KEY, None)


def end_request(response):
    """After every request: commit on success (or ``keep_changes``), roll back otherwise."""
    if response.status_code < 400 or g.get("keep_changes"):
        commit()
    else:
        db.session.rollback()
    return response


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Outside a request (command line, demo loader): commit what the block did, or roll
    it all back when it raises."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    commit()


# --- locks ------------------------------------------------------------------------------


def lock(name: str) -> None:
    """Serialise a critical section across requests and processes until the commit.

    PostgreSQL takes a transaction-scoped advisory lock on ``name``. SQLite has one writer
    at a time: the transaction takes the write lock now (``BEGIN IMMEDIATE``) instead of at
    its first write, so parallel requests that read a count and then write (failed logins)
    see each other's writes. Call it before the section's first read.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        # pysqlite opens a transaction only at the first write; one that has written holds
        # the write lock already.
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_ignore(model: type, values: dict[str, Any], conflict_columns: list[str]) -> bool:
    """Insert one row unless one with the same ``conflict_columns`` exists; True when inserted.

    ``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite alike: idempotent and safe
    under concurrency (fifty check-ins at once count fifty, twice counts once), without the
    flush-and-catch of a unique violation that would end a PostgreSQL transaction.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project runs on these two
        raise NotImplementedError(dialect)
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    # RETURNING tells whether a row was written (the driver's rowcount is not reliable here).
    return db.session.execute(statement.returning(*model.__table__.primary_key.columns)).first() is not None


# --- ids and pages in URLs ------------------------------------------------------------------

# The largest value of a PostgreSQL integer column: every primary key of the schema.
MAX_ID = 2_147_483_647
# Page numbers past this are read as this one (the offset must stay a valid integer).
MAX_PAGE = 1_000_000


class IdConverter(IntegerConverter):
    """``<id:thing_id>``: a database id, 1 to MAX_ID; anything else is a 404, never a 500.

    A plain ``<int:...>`` takes any number, and PostgreSQL refuses one past its integer
    range with an error instead of finding no row.
    """

    def __init__(self, map, *args, **kwargs) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def page_number(value: str | None) -> int:
    """The page number a list was asked for: 1 unless a positive integer, at most MAX_PAGE."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def paginate(query, per_page: int):
    """One page of ``query`` for the ``page`` query argument (clamped, never an error)."""
    from flask import request

    page = page_number(request.args.get("page")) if has_request_context() else 1
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def contains_text(column, text_: str):
    """``column`` contains ``text_``, ignoring case; "%" and "_" in the text match only themselves."""
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def init_app(app: Flask) -> None:
    """The ``<id:...>`` converter (before any route uses it) and the commit of each request."""
    app.url_map.converters["id"] = IdConverter
    app.after_request(end_request)
