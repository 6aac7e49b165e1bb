"""Write audit entries inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from conference_app.audit.models import AuditEntry
from conference_app.extensions import db


def _current_actor() -> tuple[int | None, str, str | None]:
    if not has_request_context():
        return None, "system (command line)", None
    ip_address = request.headers.get("X-Forwarded-For", request.remote_addr or "")
    ip_address = ip_address.split(",")[0].strip() or None
    if current_user and current_user.is_authenticated:
        return current_user.id, f"{current_user.name} <{current_user.email}>", ip_address
    return None, "anonymous", ip_address


def record(
    action: str,
    target: Any,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str | None = None,
    details: dict | None = None,
    actor: Any = None,
) -> AuditEntry:
    """Add an audit entry for ``action`` on ``target`` to the current session (not committed).

    The entry commits or rolls back with the change it describes. ``actor`` defaults to the
    logged-in user, or "system" outside a request (command line).
    """
    actor_id, actor_label, ip_address = _current_actor()
    if actor is not None:
        actor_id, actor_label = actor.id, f"{actor.name} <{actor.email}>"
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=actor_label,
        ip_address=ip_address,
        action=action,
        object_type=type(target).__name__,
        object_id=None if getattr(target, "id", None) is None else str(target.id),
        object_label=str(getattr(target, "audit_label", None) or target)[:300],
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        details=details,
    )
    db.session.add(entry)
    return entry
