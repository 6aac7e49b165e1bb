"""In tests: a unit of work that changes audited rows without writing an audit entry fails.

Listens to every flush and remembers which ``AuditedMixin`` rows were created, changed
(beyond their ``__audit_exempt__`` columns) or deleted, and whether an ``AuditEntry`` was
added. When the request pipeline or ``unit_of_work`` commits (``core.db.commit``) with
``AUDIT_GUARD`` set, changes without any entry raise ``UnauditedChange``: every mutation
leaves an event, or the test that made it fails. Bulk ``update()``/``delete()`` statements
are not seen by the ORM and are not checked (they are used only for counters and sessions).
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect

from conference_app.audit.models import AuditEntry
from conference_app.core.db import UNIT_OF_WORK_KEY, AuditedMixin

CHANGES_KEY = "audited_changes"
ENTRIES_KEY = "audit_entries_added"


class UnauditedChange(AssertionError):
    """Audited rows changed in a unit of work that wrote no audit entry."""


def _changed_columns(obj) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}


@event.listens_for(Session, "after_flush")
def _remember(session, flush_context) -> None:
    changes = session.info.setdefault(CHANGES_KEY, set())
    for obj in session.new:
        if isinstance(obj, AuditEntry):
            session.info[ENTRIES_KEY] = session.info.get(ENTRIES_KEY, 0) + 1
        elif isinstance(obj, AuditedMixin):
            changes.add(f"{type(obj).__name__} created")
    for obj in session.dirty:
        if isinstance(obj, AuditedMixin):
            columns = _changed_columns(obj) - type(obj).__audit_exempt__
            if columns:
                changes.add(f"{type(obj).__name__} {obj.id}: {', '.join(sorted(columns))}")
    for obj in session.deleted:
        if isinstance(obj, AuditedMixin):
            changes.add(f"{type(obj).__name__} {obj.id} deleted")


@event.listens_for(Session, "before_commit")
def _check(session) -> None:
    if not (session.info.get(UNIT_OF_WORK_KEY) and has_app_context() and current_app.config.get("AUDIT_GUARD")):
        return
    session.flush()
    changes = session.info.get(CHANGES_KEY)
    if changes and not session.info.get(ENTRIES_KEY):
        raise UnauditedChange(f"changed without an audit entry: {'; '.join(sorted(changes))}")


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session) -> None:
    session.info.pop(CHANGES_KEY, None)
    session.info.pop(ENTRIES_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction) -> None:
    session.info.pop(CHANGES_KEY, None)
    session.info.pop(ENTRIES_KEY, None)
