"""Backups of the database and the uploaded files, and their restore (``flask backup``).

A backup is a folder: ``manifest.json`` (format version, when, the database's dialect and
Alembic revision, the row count of every table, the size and SHA-256 of every file), the
database (``database.sqlite3``, a copy made by SQLite's backup API, or ``database.dump``,
``pg_dump --format=custom``) and ``uploads/``, a copy of ``UPLOAD_DIR``. It is written into a
hidden sibling folder and renamed into place at the end, so a failed backup leaves nothing.
A restore checks the whole folder before it changes anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from conference_app.core.timeutil import beijing_now

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
ALEMBIC_TABLE = "alembic_version"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A refused or failed backup or restore; the message is one line for the operator."""


def create_backup(folder: Path, engine: Engine, upload_dir: Path) -> dict:
    """Write a backup of the database behind ``engine`` and of ``upload_dir`` into ``folder``
    (which must not exist or be empty); the manifest written."""
    folder, upload_dir = Path(folder), Path(upload_dir)
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new or empty folder")
    _refuse_inside(folder, upload_dir)
    dialect = _dialect(engine)
    dump = _pg_dump if dialect == "postgresql" else _sqlite_dump
    if dialect == "postgresql":
        _client_program("pg_dump")
    work = _hidden_sibling(folder, ".partial", "")
    try:
        database_file = DATABASE_FILES[dialect]
        tables, revision = dump(engine, work / database_file)
        # After the database: every file a dumped row names was written before the dump.
        files = [_file_entry(work, database_file)] + _copy_uploads(upload_dir, work / UPLOADS)
        manifest = {
            "version": FORMAT_VERSION,
            "created_at": beijing_now().isoformat(timespec="seconds"),
            "dialect": dialect,
            "alembic_revision": revision,
            "database_file": database_file,
            "tables": tables,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            folder.rmdir()
        work.rename(folder)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"backup failed, nothing written: {error}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def read_backup(folder: Path) -> dict:
    """The manifest of a backup folder, once its version and every file's size and SHA-256
    are checked (and no file is missing or added)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BackupError(f"{manifest_path} cannot be read: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("version") != FORMAT_VERSION:
        version = manifest.get("version") if isinstance(manifest, dict) else None
        raise BackupError(f"{manifest_path}: backup format version {version!r} is not supported "
                          f"(this version reads {FORMAT_VERSION})")
    _check_manifest_shape(manifest, manifest_path)
    listed = {entry["path"]: entry for entry in manifest["files"]}
    present = {path.relative_to(folder).as_posix() for path in _files_under(folder)} - {MANIFEST}
    if manifest["database_file"] not in listed:
        raise BackupError(f"{manifest_path}: the database file {manifest['database_file']} is not among its files")
    if missing := sorted(set(listed) - present):
        raise BackupError(f"{folder}: {missing[0]} is missing")
    if unlisted := sorted(present - set(listed)):
        raise BackupError(f"{folder}: {unlisted[0]} is not in the manifest")
    for path, entry in sorted(listed.items()):
        size, sha256 = _size_and_sha256(folder / path)
        if (size, sha256) != (entry["size"], entry["sha256"]):
            raise BackupError(f"{folder}: {path} does not match its checksum in the manifest (changed or damaged)")
    return manifest


def existing_rows(engine: Engine) -> int:
    """How many rows the database holds, Alembic's revision aside."""
    with engine.connect() as connection:
        tables, _ = _contents(connection)
    return sum(count for name, count in tables.items() if name != ALEMBIC_TABLE)


def restore_backup(folder: Path, engine: Engine, upload_dir: Path, *, replace_rows: bool = False) -> dict:
    """Put the database and the uploads of the backup in ``folder`` back; the manifest.

    Refused, with nothing changed, when the backup fails its checks, is of another dialect,
    or the database holds rows and ``replace_rows`` is false. The upload folder is swapped
    whole after the database is restored; the row counts are then checked against the manifest.
    """
    folder, upload_dir = Path(folder), Path(upload_dir)
    _refuse_inside(folder, upload_dir)
    manifest = read_backup(folder)
    dialect = _dialect(engine)
    if manifest["dialect"] != dialect:
        raise BackupError(f"{folder} is a backup of a {manifest['dialect']} database; "
                          f"the configured database is {dialect}")
    restore = _pg_restore if dialect == "postgresql" else _sqlite_restore
    if dialect == "postgresql":
        _client_program("pg_restore")
    if not replace_rows and (rows := existing_rows(engine)):
        raise BackupError(f"the database already holds {rows} rows; the restore replaces them all: "
                          "run it again with --yes")
    staged = _stage_uploads(folder / UPLOADS, upload_dir)
    try:
        engine.dispose()  # no pooled connection holds the file or a table the restore replaces
        restore(folder / manifest["database_file"], engine)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    finally:
        engine.dispose()
    _swap_in(staged, upload_dir)
    with engine.connect() as connection:
        restored, _ = _contents(connection)
    for name, count in sorted(manifest["tables"].items()):
        if restored.get(name) != count:
            found = "no such table" if name not in restored else f"{restored[name]} rows"
            raise BackupError(f"restored, but table {name} has {found} where the backup has {count}")
    return manifest


def summary(manifest: dict) -> str:
    """What a backup holds, in one line."""
    uploads = [entry for entry in manifest["files"] if entry["path"] != manifest["database_file"]]
    return (f"{manifest['dialect']} database at revision {manifest['alembic_revision'] or '(none)'}, "
            f"{sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables, "
            f"{len(uploads)} uploaded file{'' if len(uploads) == 1 else 's'} "
            f"({sum(entry['size'] for entry in uploads)} bytes)")


# --- the database -------------------------------------------------------------------------


def _dialect(engine: Engine) -> str:
    if engine.dialect.name not in DATABASE_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {engine.dialect.name}")
    return engine.dialect.name


def _contents(connection: Connection) -> tuple[dict[str, int], str | None]:
    """The row count of every table and the Alembic revision, as ``connection`` sees them."""
    quote = connection.dialect.identifier_preparer.quote
    tables = {name: connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()
              for name in sorted(inspect(connection).get_table_names())}
    revision = None
    if tables.get(ALEMBIC_TABLE):
        revision = ",".join(sorted(connection.scalars(text(f"SELECT version_num FROM {ALEMBIC_TABLE}"))))
    return tables, revision


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the SQLite database must be a file named by its path in DATABASE_URL")
    return Path(database)


def _sqlite_dump(engine: Engine, target: Path) -> tuple[dict[str, int], str | None]:
    source_file = _sqlite_file(engine)
    if not source_file.is_file():
        raise BackupError(f"the database file {source_file} does not exist")
    with closing(sqlite3.connect(source_file)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    # Counted in the copy itself: the counts are those of the copy, whatever was written meanwhile.
    copy_engine = create_engine(f"sqlite:///{target}")
    try:
        with copy_engine.connect() as connection:
            return _contents(connection)
    finally:
        copy_engine.dispose()


def _sqlite_restore(dump: Path, engine: Engine) -> None:
    target = _sqlite_file(engine)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Read-only: the backup folder stays exactly as its manifest describes it.
        with closing(sqlite3.connect(f"{dump.resolve().as_uri()}?mode=ro", uri=True)) as source, \
                closing(sqlite3.connect(target)) as destination:
            source.backup(destination)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"restoring {target} failed, the database is unchanged: {error}") from None


def _client_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(f"{name} is not installed (or not on PATH): install the PostgreSQL client "
                          "of the server's major version, e.g. apt-get install postgresql-client")
    return program


def _libpq_url_and_environment(engine: Engine) -> tuple[str, dict[str, str]]:
    """The libpq URL of the engine's database (no driver, no password) and an environment
    carrying the password, which so stays off the command line."""
    url = engine.url
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return url.set(drivername=url.get_backend_name(), password=None).render_as_string(), environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        message = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "no message")
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): {message}")


def _pg_dump(engine: Engine, target: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump of the snapshot in which the rows are counted, so the counts are the dump's."""
    url, environment = _libpq_url_and_environment(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        contents = _contents(connection)
        _run([_client_program("pg_dump"), "--format=custom", "--no-owner", f"--snapshot={snapshot}",
              f"--file={target}", f"--dbname={url}"], environment)
    return contents


def _pg_restore(dump: Path, engine: Engine) -> None:
    url, environment = _libpq_url_and_environment(engine)
    try:
        _run([_client_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={url}", str(dump)], environment)
    except BackupError as error:
        raise BackupError(f"{error}; the database is unchanged") from None


# --- files --------------------------------------------------------------------------------


def _refuse_inside(folder: Path, upload_dir: Path) -> None:
    """A backup folder within the upload folder would copy itself, or be replaced by the restore."""
    if upload_dir.resolve() in (folder.resolve(), *folder.resolve().parents):
        raise BackupError(f"{folder} is inside UPLOAD_DIR ({upload_dir}): keep backups outside it")


def _files_under(root: Path) -> list[Path]:
    """Every file below ``root`` (symbolic links to folders not followed), sorted."""
    found = []
    for directory, folders, names in os.walk(root):
        folders.sort()
        found += [Path(directory, name) for name in sorted(names) if Path(directory, name).is_file()]
    return found


def _size_and_sha256(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _file_entry(folder: Path, path: str) -> dict:
    size, sha256 = _size_and_sha256(folder / path)
    return {"path": path, "size": size, "sha256": sha256}


def _copy_uploads(source: Path, target: Path) -> list[dict]:
    """Copy every file of ``source`` into ``target``; their manifest entries (paths below the backup)."""
    target.mkdir()
    entries = []
    for path in _files_under(source) if source.is_dir() else []:
        relative = path.relative_to(source).as_posix()
        if _copy_file(path, target / relative):
            entries.append(_file_entry(target.parent, f"{UPLOADS}/{relative}"))
    return entries


def _copy_file(source: Path, destination: Path) -> bool:
    """Copy a file with its mode and times; False when it was removed before it could be read
    (an upload rolled back meanwhile)."""
    try:
        reader = open(source, "rb")
    except FileNotFoundError:
        return False
    with reader:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(destination, "wb") as writer:
            shutil.copyfileobj(reader, writer, CHUNK)
        status = os.fstat(reader.fileno())
    os.chmod(destination, stat.S_IMODE(status.st_mode))
    os.utime(destination, ns=(status.st_atime_ns, status.st_mtime_ns))
    return True


def _hidden_sibling(target: Path, suffix: str, note: str) -> Path:
    """A new empty folder ``.<name>.<random><suffix>`` beside ``target`` (renamed into place later)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent))
    except OSError as error:
        raise BackupError(f"cannot write into {target.parent}: {error.strerror}{note}") from None


def _stage_uploads(source: Path, upload_dir: Path) -> Path:
    """A copy of the backup's uploads in a hidden sibling of ``upload_dir``, ready to swap in."""
    staged = _hidden_sibling(upload_dir, ".restoring", "; nothing changed")
    try:
        shutil.copytree(source, staged, dirs_exist_ok=True)
        if upload_dir.is_dir():
            os.chmod(staged, stat.S_IMODE(upload_dir.stat().st_mode))
    except OSError as error:
        shutil.rmtree(staged, ignore_errors=True)
        raise BackupError(f"copying the uploads failed, nothing changed: {error}") from None
    return staged


def _swap_in(staged: Path, upload_dir: Path) -> None:
    """Put the staged folder in the place of ``upload_dir`` (whose old files are removed)."""
    retired = upload_dir.with_name(f".{upload_dir.name}.replaced-{uuid.uuid4().hex}")
    try:
        if upload_dir.exists():
            upload_dir.rename(retired)
        try:
            staged.rename(upload_dir)
        except OSError:
            if retired.exists():
                retired.rename(upload_dir)
            raise
    except OSError as error:
        shutil.rmtree(staged, ignore_errors=True)
        raise BackupError(f"the database is restored but {upload_dir} could not be replaced "
                          f"(its files are unchanged): {error}") from None
    shutil.rmtree(retired, ignore_errors=True)


def _check_manifest_shape(manifest: dict, manifest_path: Path) -> None:
    expected = {"created_at": str, "dialect": str, "database_file": str, "tables": dict, "files": list}
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"{manifest_path}: {key} is missing or not a {kind.__name__}")
    for entry in manifest["files"]:
        if not (isinstance(entry, dict) and isinstance(entry.get("path"), str) and isinstance(entry.get("size"), int)
                and isinstance(entry.get("sha256"), str)):
            raise BackupError(f"{manifest_path}: a file entry lacks its path, size or sha256")
    if not all(isinstance(count, int) for count in manifest["tables"].values()):
        raise BackupError(f"{manifest_path}: a table's row count is not a number")
