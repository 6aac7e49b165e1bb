"""``flask backup create DIR`` / ``backup restore DIR``: the database and the uploads round-trip
into a fresh database on SQLite and on PostgreSQL; a refused backup or restore changes nothing."""

from __future__ import annotations

import errno
import hashlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from conference_app import create_app
from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.audit.services import record
from conference_app.core import backup as backup_service
from conference_app.core.db import unit_of_work
from conference_app.core.uploads import store_upload
from conference_app.extensions import db
from tests.app.conftest import app_settings

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture()
def fresh_app(database_url, tmp_path):
    """An app on a new, empty database of the test's backend (dropped afterwards), with
    its own upload folder already holding a file the restore must remove."""
    if database_url.startswith("sqlite"):
        url, drop = f"sqlite:///{tmp_path / 'restored.db'}", None
    else:
        server = create_engine(database_url, isolation_level="AUTOCOMMIT")
        name = f"{make_url(database_url).database}_restored"
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)

        def drop():
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()

    fresh = create_app(app_settings(url, tmp_path / "fresh-instance"))
    stray = Path(fresh.config["UPLOAD_DIR"]) / "stray.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("not in the backup")
    yield fresh
    with fresh.app_context():
        db.engine.dispose()
    if drop:
        drop()


def invoke(app, *args):
    """Run ``flask`` with ``args`` in the current application context, which is ``app``'s."""
    return app.test_cli_runner().invoke(args=[str(argument) for argument in args])


def every_row() -> dict[str, list[tuple]]:
    """Every row of every table of the current app's database, in a stable order."""
    return {table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables}


def add_records(make_user, make_organisation) -> tuple[str, bytes]:
    """Users, an organisation, an audit entry and an uploaded file (the entry names its path)."""
    organisation = make_organisation(name_zh="备份测试学会")
    staff = make_user("staff")
    make_user("society", organisation=organisation, name="学会秘书")
    with unit_of_work():
        stored = store_upload(FileStorage(io.BytesIO(PDF_BYTES), filename="章程.pdf"), "charters", allowed=("pdf",))
        record("organisation.charter_uploaded", organisation, details={"path": stored.path}, actor=staff)
    return stored.path, PDF_BYTES


def leftovers(folder: Path) -> list[str]:
    """Hidden work folders (a backup's or a restore's) left beside ``folder``."""
    return sorted(path.name for path in folder.parent.glob(f".{folder.name}.*"))


def test_a_backup_restores_into_a_fresh_database_with_every_record_and_file(app, fresh_app, make_user,
                                                                            make_organisation, tmp_path):
    upload_path, content = add_records(make_user, make_organisation)
    before = every_row()
    folder = tmp_path / "backups" / "2026-03-01"

    created = invoke(app, "backup", "create", folder)

    assert created.exit_code == 0, created.output
    assert created.output.startswith(f"backup written to {folder}: {db.engine.dialect.name} database")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == 1 and manifest["created_at"].endswith("+08:00")
    assert manifest["tables"]["users"] == 2 and manifest["tables"]["audit_entries"] == 1
    assert {"path": f"uploads/{upload_path}", "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest()} in manifest["files"]
    assert leftovers(folder) == []

    with fresh_app.app_context():
        restored = invoke(fresh_app, "backup", "restore", folder)

    assert restored.exit_code == 0, restored.output
    assert restored.output.startswith(f"restored {folder} (made {manifest['created_at']}): ")
    assert restored.output.rstrip().endswith("row counts checked")
    with fresh_app.app_context():
        assert every_row() == before
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.details == {"path": upload_path}
        assert db.session.scalar(select(User.name).where(User.role == "society")) == "学会秘书"
    uploads = Path(fresh_app.config["UPLOAD_DIR"])
    assert sorted(path.relative_to(uploads).as_posix() for path in uploads.rglob("*") if path.is_file()) == [upload_path]
    assert (uploads / upload_path).read_bytes() == content
    assert leftovers(uploads) == []


def test_restore_over_rows_needs_yes_and_then_replaces_them(app, make_user, make_organisation, tmp_path):
    upload_path, content = add_records(make_user, make_organisation)
    before = every_row()
    folder = tmp_path / "backup"
    assert invoke(app, "backup", "create", folder).exit_code == 0
    make_user("staff", name="备份之后的账号")
    uploads = Path(app.config["UPLOAD_DIR"])
    (uploads / upload_path).write_bytes(b"changed after the backup")
    rows = sum(len(table_rows) for table_rows in every_row().values())

    refused = invoke(app, "backup", "restore", folder)

    assert refused.exit_code == 1
    assert refused.output == (f"Error: the database already holds {rows} rows; the restore replaces them all: "
                              "run it again with --yes\n")
    assert db.session.scalar(select(func.count()).select_from(User)) == 3

    replaced = invoke(app, "backup", "restore", folder, "--yes")

    assert replaced.exit_code == 0, replaced.output
    assert every_row() == before
    assert (uploads / upload_path).read_bytes() == content


@pytest.mark.parametrize("damage", ["upload", "database", "added file", "removed file"])
def test_restore_refuses_a_damaged_backup_and_changes_nothing(app, make_user, make_organisation, tmp_path, damage):
    upload_path, content = add_records(make_user, make_organisation)
    folder = tmp_path / "backup"
    assert invoke(app, "backup", "create", folder).exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    database_file = folder / manifest["database_file"]
    if damage == "upload":
        (folder / "uploads" / upload_path).write_bytes(content.replace(b"1.4", b"1.7"))
    elif damage == "database":
        data = database_file.read_bytes()
        database_file.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    elif damage == "added file":
        (folder / "uploads" / "extra.pdf").write_bytes(PDF_BYTES)
    else:
        (folder / "uploads" / upload_path).unlink()
    make_user("staff", name="备份之后的账号")
    before = every_row()

    refused = invoke(app, "backup", "restore", folder, "--yes")

    assert refused.exit_code == 1
    expected = {
        "upload": f"uploads/{upload_path} does not match its checksum in the manifest",
        "database": f"{manifest['database_file']} does not match its checksum in the manifest",
        "added file": "uploads/extra.pdf is not in the manifest",
        "removed file": f"uploads/{upload_path} is missing",
    }[damage]
    assert refused.output.startswith(f"Error: {folder}: {expected}") and refused.output.count("\n") == 1
    assert every_row() == before
    uploads = Path(app.config["UPLOAD_DIR"])
    assert (uploads / upload_path).read_bytes() == content
    assert leftovers(uploads) == []


def test_restore_refuses_a_backup_of_the_other_dialect(app, make_user, tmp_path):
    make_user("staff")
    folder = tmp_path / "backup"
    assert invoke(app, "backup", "create", folder).exit_code == 0
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    dialect = manifest["dialect"]
    other = {"sqlite": "postgresql", "postgresql": "sqlite"}[dialect]
    manifest_path.write_text(json.dumps(manifest | {"dialect": other}), encoding="utf-8")

    refused = invoke(app, "backup", "restore", folder, "--yes")

    assert refused.exit_code == 1
    assert refused.output == (f"Error: {folder} is a backup of a {other} database; "
                              f"the configured database is {dialect}\n")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(("prepare", "message"), [
    ("missing", "{folder} is not a folder"),
    ("empty", "{folder} is not a backup: it has no manifest.json"),
    ("not json", "{folder}/manifest.json cannot be read: "),
    ("version 2", "{folder}/manifest.json: backup format version 2 is not supported (this version reads 1)"),
])
def test_restore_refuses_a_folder_that_is_no_backup(app, tmp_path, prepare, message):
    folder = tmp_path / "backup"
    if prepare != "missing":
        folder.mkdir()
    if prepare == "not json":
        (folder / "manifest.json").write_text("{", encoding="utf-8")
    elif prepare == "version 2":
        (folder / "manifest.json").write_text('{"version": 2}', encoding="utf-8")

    refused = invoke(app, "backup", "restore", folder)

    assert refused.exit_code == 1
    assert refused.output.startswith("Error: " + message.format(folder=folder)) and refused.output.count("\n") == 1


def test_create_refuses_a_folder_that_is_not_empty(app, make_user, tmp_path):
    make_user("staff")
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")

    refused = invoke(app, "backup", "create", folder)

    assert refused.exit_code == 1
    assert refused.output == f"Error: {folder} is not empty: back up into a new or empty folder\n"
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]
    assert leftovers(folder) == []


def test_a_failed_backup_leaves_nothing(app, make_user, make_organisation, tmp_path, monkeypatch):
    add_records(make_user, make_organisation)

    def disk_full(source, destination):
        raise OSError(errno.ENOSPC, "No space left on device", str(destination))

    monkeypatch.setattr(backup_service, "_copy_file", disk_full)
    folder = tmp_path / "backup"

    failed = invoke(app, "backup", "create", folder)

    assert failed.exit_code == 1
    assert failed.output.startswith("Error: backup failed, nothing written: [Errno 28] No space left on device")
    assert not folder.exists() and leftovers(folder) == []


def test_create_refuses_a_folder_inside_the_upload_folder(app, make_user):
    make_user("staff")
    folder = Path(app.config["UPLOAD_DIR"]) / "backup"

    refused = invoke(app, "backup", "create", folder)

    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: {folder} is inside UPLOAD_DIR")
    assert not folder.exists() and leftovers(folder) == []


def test_without_a_working_postgresql_client_nothing_changes(app, database_url, make_user, tmp_path, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_dump and pg_restore serve PostgreSQL only")
    make_user("staff")
    folder = tmp_path / "backup"
    assert invoke(app, "backup", "create", folder).exit_code == 0
    programs = tmp_path / "programs"
    programs.mkdir()
    monkeypatch.setenv("PATH", str(programs))

    no_dump = invoke(app, "backup", "create", tmp_path / "second")
    no_restore = invoke(app, "backup", "restore", folder, "--yes")
    failing_dump = programs / "pg_dump"
    failing_dump.write_text("#!/bin/sh\necho 'pg_dump: error: aborting because of server version mismatch' >&2\n"
                            "exit 1\n")
    failing_dump.chmod(0o755)
    dump_fails = invoke(app, "backup", "create", tmp_path / "second")

    assert no_dump.exit_code == no_restore.exit_code == dump_fails.exit_code == 1
    assert no_dump.output.startswith("Error: pg_dump is not installed (or not on PATH)")
    assert no_restore.output.startswith("Error: pg_restore is not installed (or not on PATH)")
    assert dump_fails.output == ("Error: pg_dump failed (exit 1): pg_dump: error: aborting because of server "
                                 "version mismatch\n")
    assert not (tmp_path / "second").exists() and leftovers(tmp_path / "second") == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
