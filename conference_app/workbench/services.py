"""What the analyst's home shows of the selection library: its disciplines and commands."""

from __future__ import annotations

from flask import current_app

SELECTION_COMMANDS = (
    ".venv/bin/python -m selection institutions --help",
    ".venv/bin/python -m selection harvest --help",
    ".venv/bin/python -m selection import-snapshot --help",
    ".venv/bin/python -m selection rank --help",
)


def workspace() -> dict:
    """The selection's disciplines (none when that library is not available) and its commands."""
    disciplines = []
    try:
        from selection.disciplines import load_disciplines
        from selection.errors import SelectionError
    except ImportError:
        current_app.logger.warning("the selection library is not installed")
    else:
        try:
            disciplines = list(load_disciplines())
        except SelectionError:
            current_app.logger.exception("disciplines mapping could not be read")
    return {"disciplines": disciplines, "commands": SELECTION_COMMANDS}
