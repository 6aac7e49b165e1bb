"""Column types and mixins shared by every domain's models."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, types
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.routing import IntegerConverter


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


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


class TimestampMixin:
    """created_at / updated_at maintained by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


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

    from conference_app.extensions import db

    return db.paginate(query, page=page_number(request.args.get("page")), per_page=per_page, error_out=False)


def contains_text(column, text: str):
    """``column`` contains ``text``, ignoring case; "%" and "_" in the text match only themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
