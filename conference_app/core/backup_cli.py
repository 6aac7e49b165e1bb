"""``flask --app conference_app backup create DIR`` / ``backup restore DIR [--yes]``: the
database and ``UPLOAD_DIR`` into a folder and back (``core.backup``, ``docs/backups.md``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

backup = AppGroup("backup", help="Back up the database and the uploaded files into a folder, and restore them.")
commands = [backup]

# After ``commands``: core.cli imports it from here (the factory reads core.cli's list), so
# either module may be imported first.
from conference_app.core.backup import BackupError, create_backup, restore_backup, summary  # noqa: E402
from conference_app.core.cli import OneLineCommand, fail  # noqa: E402
from conference_app.extensions import db  # noqa: E402


@backup.command("create", cls=OneLineCommand)
@click.argument("folder", type=click.Path(path_type=Path))
def create_command(folder: Path) -> None:
    """Write a backup into FOLDER, which must not exist or be empty."""
    try:
        manifest = create_backup(folder, db.engine, Path(current_app.config["UPLOAD_DIR"]))
    except BackupError as error:
        fail(error)
    except OperationalError as error:
        fail(_unreachable(error))
    click.echo(f"backup written to {folder}: {summary(manifest)}")


@backup.command("restore", cls=OneLineCommand)
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--yes", "replace_rows", is_flag=True, help="Replace the rows the database already holds.")
def restore_command(folder: Path, replace_rows: bool) -> None:
    """Replace the database and UPLOAD_DIR by the backup in FOLDER (stop the app first)."""
    db.session.remove()  # the session's connection would hold the tables the restore replaces
    try:
        manifest = restore_backup(folder, db.engine, Path(current_app.config["UPLOAD_DIR"]), replace_rows=replace_rows)
    except BackupError as error:
        fail(error)
    except OperationalError as error:
        fail(_unreachable(error))
    click.echo(f"restored {folder} (made {manifest['created_at']}): {summary(manifest)}; row counts checked")


def _unreachable(error: OperationalError) -> str:
    return f"the database cannot be reached, nothing changed: {' '.join(str(error.orig).split())}"
