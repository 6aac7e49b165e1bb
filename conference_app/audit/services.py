"""Write audit entries inside the caller's transaction, and query them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from conference_app.audit.models import AuditEntry
from conference_app.core.db import contains_text, utcnow
from conference_app.core.text import strip_nul
from conference_app.core.timeutil import day_start
from conference_app.extensions import db


class Titles(dict):
    """Codes stored in the log -> readable, translatable names; unknown codes show as they are."""

    def register(self, titles: dict[str, Any]) -> None:
        self.update(titles)

    def title(self, code: str) -> str:
        title = self.get(code)
        return str(title) if title is not None else code


SYSTEM_ACTOR = "system (command line)"
ANONYMOUS_ACTOR = "anonymous"
# A person is shown as recorded; the system and anonymous visitors in the reader's language.
ACTOR_TITLES = Titles({SYSTEM_ACTOR: _l("System (command line)"), ANONYMOUS_ACTOR: _l("Anonymous visitor")})
actor_title = ACTOR_TITLES.title
# Each module names its action codes ("user.disabled") ...
ACTION_TITLES = Titles()
register_action_titles = ACTION_TITLES.register
action_title = ACTION_TITLES.title
# ... and the model classes it logs ("User").
OBJECT_TYPE_TITLES = Titles()
register_object_type_titles = OBJECT_TYPE_TITLES.register
object_type_title = OBJECT_TYPE_TITLES.title
# ... and the states its objects move through, per model class ("Organisation": {"pending": ...}).
STATE_TITLES: dict[str, Titles] = {}


def register_state_titles(object_type: str, titles: dict[str, Any]) -> None:
    """Readable names for the from/to states logged on objects of ``object_type``."""
    STATE_TITLES.setdefault(object_type, Titles()).register(titles)


# ... and the fields whose changes it logs, per model class ("Organisation": {"address": ...}).
FIELD_TITLES: dict[str, Titles] = {}


def register_field_titles(object_type: str, titles: dict[str, Any]) -> None:
    """Readable names for the fields of ``object_type`` that change details name."""
    FIELD_TITLES.setdefault(object_type, Titles()).register(titles)


def field_title(object_type: str, name: str) -> str:
    """A logged field name in the reader's language; unknown fields show as stored."""
    return FIELD_TITLES.get(object_type, Titles()).title(name)


def state_title(object_type: str, code: str | None) -> str:
    """A logged state in the reader's language; unknown states show as stored."""
    if code is None:
        return ""
    return STATE_TITLES.get(object_type, Titles()).title(code)


def client_ip() -> str | None:
    """The requesting address; None outside a request.

    Behind a reverse proxy set PROXY_COUNT so ProxyFix takes it from X-Forwarded-For;
    the header is never trusted by itself, as anyone can send it.
    """
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


def _current_actor() -> tuple[int | None, str, str | None]:
    if not has_request_context():
        return None, SYSTEM_ACTOR, None
    ip_address = client_ip()
    if current_user and current_user.is_authenticated:
        return current_user.id, f"{current_user.name} <{current_user.email}>", ip_address
    return None, ANONYMOUS_ACTOR, ip_address


def record(
    action: str,
    target: Any,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str | None = None,
    details: dict | None = None,
    actor: Any = None,
    object_type: str | None = None,
    object_label: str | None = None,
) -> AuditEntry:
    """Add an audit entry for ``action`` on ``target`` to the current session (not committed).

    The entry commits or rolls back with the change it describes. ``actor`` defaults to the
    logged-in user, or "system" outside a request (command line). ``object_type`` and
    ``object_label`` describe a target that is not a model (``target`` may then be None).
    """
    actor_id, actor_label, ip_address = _current_actor()
    if actor is not None:
        actor_id, actor_label = actor.id, f"{actor.name} <{actor.email}>"
    entry = AuditEntry(
        created_at=utcnow(),  # when the decision was taken, not when the session flushes
        actor_id=actor_id,
        actor_label=actor_label,
        ip_address=ip_address,
        action=action,
        object_type=object_type or type(target).__name__,
        object_id=None if getattr(target, "id", None) is None else str(target.id),
        object_label=(object_label or str(getattr(target, "audit_label", None) or target))[:300],
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        details=details,
    )
    db.session.add(entry)
    return entry


def logged_value(value: Any) -> Any:
    """A value as the log keeps it in ``details``: JSON (dates as ISO text, enums as their value)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its plain value
    return value


def snapshot(target: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The logged values of ``fields`` of ``target`` now, for ``record_changes`` later."""
    return {name: logged_value(getattr(target, name)) for name in fields}


def record_changes(action: str, target: Any, before: Mapping[str, Any], **fields: Any) -> AuditEntry | None:
    """Log ``action`` with what changed since ``before`` (a ``snapshot``); nothing when nothing did.

    The one shape of change details: ``{"changes": {field: [old, new]}}``.
    """
    changes = {
        name: [old, new]
        for name, old in before.items()
        if (new := logged_value(getattr(target, name))) != old
    }
    if not changes:
        return None
    return record(action, target, details={"changes": changes}, **fields)


# --- reading the log ----------------------------------------------------------------------


def history(target: Any) -> list[AuditEntry]:
    """Every entry on ``target`` (a model row), newest first: its life as the log tells it."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.object_type == type(target).__name__, AuditEntry.object_id == str(target.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    return list(db.session.scalars(query))


def recent_entries(limit: int = 10) -> list[AuditEntry]:
    """The newest entries of the whole log."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def entries_query(
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
):
    """Newest first; ``actor`` matches part of the name or e-mail; dates are Beijing days, inclusive."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    # NUL cannot be compared by PostgreSQL and is never stored: drop it from the criteria.
    actor, action, object_type, object_id = (strip_nul(value) for value in (actor, action, object_type, object_id))
    if actor:
        query = query.where(contains_text(AuditEntry.actor_label, actor))
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if date_from:
        query = query.where(AuditEntry.created_at >= day_start(date_from))
    if date_to:
        query = query.where(AuditEntry.created_at < day_start(date_to + timedelta(days=1)))
    return query


def distinct_values(column) -> list[str]:
    """The values a column of the log holds (for the filter menus)."""
    return list(db.session.scalars(select(column).distinct().order_by(column)))
