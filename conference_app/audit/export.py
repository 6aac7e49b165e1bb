"""The audit log as an Excel workbook, Chinese headers, times in Beijing time.

Up to ``AUDIT_EXPORT_INLINE_MAX_ROWS`` entries the page sends the workbook at once; a larger
export is the ``audit_export`` background job (same filters), written row by row into the
job's folder and downloaded from the job's page. The jobs package registers the kind and its
starter with ``export_with`` (this layer cannot import it); without one every export is inline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import action_title, actor_title, entries_query, object_type_title, state_title
from conference_app.core.excel import FORMULA_PREFIXES, Column, workbook_bytes
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import BEIJING, beijing_now
from conference_app.extensions import db

JOB_KIND = "audit_export"
JOB_TITLE = _l("Audit log export")
INLINE_MAX_ROWS = 5000  # default of AUDIT_EXPORT_INLINE_MAX_ROWS
INLINE_HARD_MAX_ROWS = 100_000  # without the jobs package an inline export stops here
JOB_MAX_ROWS = 1_048_575  # an Excel sheet's rows below its header
PROGRESS_EVERY_ROWS = 500
TEXT_CRITERIA = {"actor": 100, "action": 200, "object_type": 100, "object_id": 60}
DATE_CRITERIA = ("date_from", "date_to")

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

_start_job: Callable[[dict, object], object] | None = None


def audit_workbook(entries) -> bytes:
    """An .xlsx of ``entries`` (AuditEntry rows), one row each."""
    return workbook_bytes(_l("Audit log"), COLUMNS, entries)


def export_with(start: Callable[[dict, object], object] | None) -> None:
    """Register what starts an ``audit_export`` job: ``start(params, user)`` returns the job."""
    global _start_job
    _start_job = start


def runs_as_job(criteria: dict) -> bool:
    """Whether the entries ``criteria`` select are too many to export inline (and a job can)."""
    limit = int(current_app.config.get("AUDIT_EXPORT_INLINE_MAX_ROWS", INLINE_MAX_ROWS))
    return _start_job is not None and count_entries(criteria, limit + 1) > limit


def count_entries(criteria: dict, at_most: int) -> int:
    """How many entries ``criteria`` select, counting no further than ``at_most``."""
    selected = entries_query(**criteria).with_only_columns(AuditEntry.id).order_by(None).limit(at_most).subquery()
    return db.session.scalar(select(func.count()).select_from(selected))


def inline_entries(criteria: dict):
    return db.session.scalars(entries_query(**criteria).limit(INLINE_HARD_MAX_ROWS))


def start_export_job(criteria: dict, user):
    """Queue the ``audit_export`` job of ``criteria`` for ``user`` (its audit entry with it)."""
    if _start_job is None:
        raise ServiceError(_("Large exports need the background jobs, which this server does not run."), 409)
    return _start_job(job_params(criteria), user)


# --- the job ---------------------------------------------------------------------------------


def job_params(criteria: dict) -> dict:
    """The filters as a job's JSON parameters (dates as ISO text, only the ones set)."""
    return {name: value.isoformat() if isinstance(value, date) else value
            for name, value in criteria.items() if value not in (None, "")}


def check_job_params(params: dict) -> dict:
    """The job's parameters, checked: known filters, text of bounded length, ISO dates in order."""
    unknown = sorted(set(params) - set(TEXT_CRITERIA) - set(DATE_CRITERIA))
    if unknown:
        raise ServiceError(_("Unknown filter of the audit log: %(name)s.", name=unknown[0]))
    for name, length in TEXT_CRITERIA.items():
        value = params.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > length):
            raise ServiceError(_("The filter %(name)s must be a text of at most %(max)d characters.", name=name,
                                 max=length))
    dates = criteria_from_params({name: params.get(name) for name in DATE_CRITERIA if params.get(name) is not None})
    if dates.get("date_from") and dates.get("date_to") and dates["date_to"] < dates["date_from"]:
        raise ServiceError(_("The end date is before the start date."))
    return params


def criteria_from_params(params: dict) -> dict:
    """The keyword arguments of ``entries_query`` from the job's parameters."""
    criteria = {name: params.get(name) for name in TEXT_CRITERIA}
    for name in DATE_CRITERIA:
        value = params.get(name)
        try:
            criteria[name] = None if value is None else date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ServiceError(_("The filter %(name)s must be a date (YYYY-MM-DD).", name=name)) from None
    return criteria


def export_job(context) -> list[dict]:
    """The ``audit_export`` job: the selected entries (newest first) into one workbook."""
    criteria = criteria_from_params(context.params)
    total = min(count_entries(criteria, JOB_MAX_ROWS), JOB_MAX_ROWS)
    context.progress(0, total, unit="entries")
    rows = db.session.scalars(entries_query(**criteria).limit(JOB_MAX_ROWS).execution_options(yield_per=1000))

    def counted(entries: Iterable):
        for done, entry in enumerate(entries, start=1):
            yield entry
            if done % PROGRESS_EVERY_ROWS == 0:
                context.progress(done, total, unit="entries")

    name = f"audit-log-{beijing_now():%Y%m%d-%H%M%S}.xlsx"
    write_workbook(context.work_dir / name, counted(rows))
    context.progress(total, total, unit="entries")
    context.log(f"{total} entries written to {name}")
    user = context.user
    with force_locale(user.locale if user is not None else "zh_CN"):
        label = _("Audit log (Excel, %(count)d entries)", count=total)
    return [{"label": label, "path": name}]


def write_workbook(path: Path, entries: Iterable) -> None:
    """``entries`` into an .xlsx at ``path`` row by row (a write-only workbook: the memory stays
    small for a million rows), as ``audit_workbook`` lays it out."""
    workbook = Workbook(write_only=True)
    with force_locale("zh_CN"):
        sheet = workbook.create_sheet(str(_l("Audit log"))[:31])
        for index, column in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = "A2"
        header = []
        for column in COLUMNS:
            cell = WriteOnlyCell(sheet, value=str(column.header))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for entry in entries:
            sheet.append([_cell(sheet, column.value(entry)) for column in COLUMNS])
    workbook.save(path)


def _cell(sheet, value):
    """A cell as ``core.excel.append_row`` writes it: text stays text, never a formula."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.astimezone(BEIJING).replace(tzinfo=None) if value.tzinfo else value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if value is None or isinstance(value, (int, float)):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell
