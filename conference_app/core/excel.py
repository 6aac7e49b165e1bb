"""Excel workbooks written safely: what users typed is always text, never a formula."""

from __future__ import annotations

from collections.abc import Iterable

# Spreadsheet programs read text starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def append_row(sheet, values: Iterable) -> None:
    """Append ``values`` as one row of ``sheet``; every string is stored as a text cell.

    openpyxl turns a string starting with "=" into a formula, and spreadsheet programs run
    text starting with "=", "+", "-" or "@" as one: a name or an e-mail address typed by
    anyone (an anonymous login attempt is enough) must not become a live ``=HYPERLINK(...)``
    in a file staff open. The cell keeps the exact text, typed as a string, and a risky one
    is also marked quote-prefixed (Excel's leading apostrophe) so editing it keeps it text.
    """
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if cell.value.startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True
