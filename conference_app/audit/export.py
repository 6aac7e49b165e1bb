"""The audit log as an Excel workbook, Chinese headers, times in Beijing time."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from conference_app.audit.services import action_title, actor_title, object_type_title, state_title
from conference_app.core.excel import Column, workbook_bytes

COLUMNS = [
    Column(_l("Time (Beijing)"), lambda e: e.created_at, 20),
    Column(_l("Actor"), lambda e: actor_title(e.actor_label), 36),
    Column(_l("IP address"), lambda e: e.ip_address or "", 16),
    Column(_l("Action"), lambda e: action_title(e.action), 24),
    Column(_l("Action code"), lambda e: e.action, 26),
    Column(_l("Object type"), lambda e: object_type_title(e.object_type), 16),
    Column(_l("Object ID"), lambda e: e.object_id or "", 10),
    Column(_l("Object"), lambda e: e.object_label or "", 30),
    Column(_l("From"), lambda e: state_title(e.object_type, e.from_state), 14),
    Column(_l("To"), lambda e: state_title(e.object_type, e.to_state), 14),
    Column(_l("Comment"), lambda e: e.comment or "", 40),
]


def audit_workbook(entries) -> bytes:
    """An .xlsx of ``entries`` (AuditEntry rows), one row each."""
    return workbook_bytes(_l("Audit log"), COLUMNS, entries)
