"""The audit log as an Excel workbook, Chinese headers, times in Beijing time."""

from __future__ import annotations

from io import BytesIO
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from conference_app.audit.services import action_title, actor_title, object_type_title, state_title
from conference_app.core.excel import append_row

COLUMN_WIDTHS = (20, 36, 16, 24, 26, 16, 10, 30, 14, 14, 40)


def workbook_bytes(entries) -> bytes:
    """An .xlsx of ``entries`` (AuditEntry rows), one row each."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    workbook = Workbook()
    sheet = workbook.active
    with force_locale("zh_CN"):
        sheet.title = _("Audit log")
        headers = [
            _("Time (Beijing)"), _("Actor"), _("IP address"), _("Action"), _("Action code"),
            _("Object type"), _("Object ID"), _("Object"), _("From"), _("To"), _("Comment"),
        ]
        append_row(sheet, headers)
        for entry in entries:
            append_row(sheet, [
                entry.created_at.astimezone(zone).replace(tzinfo=None),
                actor_title(entry.actor_label),
                entry.ip_address or "",
                action_title(entry.action),
                entry.action,
                object_type_title(entry.object_type),
                entry.object_id or "",
                entry.object_label or "",
                state_title(entry.object_type, entry.from_state),
                state_title(entry.object_type, entry.to_state),
                entry.comment or "",
            ])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "yyyy-mm-dd hh:mm:ss"
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
