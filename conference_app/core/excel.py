"""Excel workbooks for staff lists, written safely: what users typed is always text, never a formula.

``workbook_bytes(title, columns, rows)`` is the one writer: Chinese headers in bold, column
widths, a frozen header row, datetimes in Beijing time. ``xlsx_response`` sends it with a
file name stamped in Beijing time. (``selection/`` has its own writer for candidates.xlsx;
it cannot import the web app.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from flask import send_file
from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from conference_app.core.timeutil import BEIJING, beijing_now

# Spreadsheet programs read text starting with one of these as a formula (also in
# selection/ranking's workbook writer, which cannot import this module).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One column of an exported list: its header (a lazy string), width and value per row."""

    header: Any
    value: Callable[[Any], Any]
    width: int = 16


def append_row(sheet, values: Iterable) -> None:
    """Append ``values`` as one row of ``sheet``; every string is stored as a text cell.

    openpyxl turns a string starting with "=" into a formula, and spreadsheet programs run
    text starting with "=", "+", "-" or "@" as one: a name or an e-mail address typed by
    anyone (an anonymous login attempt is enough) must not become a live ``=HYPERLINK(...)``
    in a file staff open. The cell keeps the exact text, typed as a string, and a risky one
    is also marked quote-prefixed (Excel's leading apostrophe) so editing it keeps it text.
    """
    sheet.append([_cell_value(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if cell.value.startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True
        elif isinstance(cell.value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm:ss"


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(BEIJING).replace(tzinfo=None)  # Excel keeps no zone: Beijing time
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # enum members and lazy strings as plain text
    if value is None or isinstance(value, (int, float)) or hasattr(value, "isoformat"):
        return value
    return str(value)


def write_sheet(sheet, title: Any, columns: list[Column], rows: Iterable[Any]) -> None:
    """Fill ``sheet``: its title, a bold frozen header row, one row per item of ``rows``."""
    sheet.title = str(title)[:31]
    append_row(sheet, [str(column.header) for column in columns])
    for row in rows:
        append_row(sheet, [column.value(row) for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"


def save_workbook(workbook: Workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_bytes(title: Any, columns: list[Column], rows: Iterable[Any]) -> bytes:
    """An .xlsx with one sheet: a header row in Chinese, then one row per item of ``rows``."""
    workbook = Workbook()
    with force_locale("zh_CN"):
        write_sheet(workbook.active, title, columns, rows)
    return save_workbook(workbook)


def xlsx_response(data: bytes, name_prefix: str):
    """Send a workbook as a download named ``<prefix>-<Beijing date and time>.xlsx``."""
    name = f"{name_prefix}-{beijing_now():%Y%m%d-%H%M%S}.xlsx"
    return send_file(BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)
