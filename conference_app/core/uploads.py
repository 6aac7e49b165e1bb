"""Uploaded files: checked by their bytes and size, stored under ``UPLOAD_DIR`` (never in
``static/``) with generated names, and removed again when the unit of work rolls back.

``store_upload`` is what a service calls with the form's ``FileStorage``; it returns a
``StoredUpload`` whose ``path`` (relative to ``UPLOAD_DIR``) the domain keeps in its row.
``send_upload`` answers a download of such a path as an attachment.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import filetype
from flask import abort, current_app, send_file
from flask_babel import gettext as _
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from werkzeug.datastructures import FileStorage

from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db

# File kinds a domain may accept: the extension filetype reports -> a readable name.
KIND_TITLES = {"pdf": "PDF", "png": "PNG", "jpg": "JPEG", "docx": "Word (.docx)", "xlsx": "Excel (.xlsx)",
               "pptx": "PowerPoint (.pptx)"}
WRITTEN_KEY = "uploads_written"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredUpload:
    """A file kept under UPLOAD_DIR: where, what it is and what its uploader called it."""

    path: str  # relative to UPLOAD_DIR, with forward slashes
    original_name: str
    size: int
    sha256: str
    mime_type: str
    extension: str


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _original_name(file: FileStorage) -> str:
    """The name the uploader's computer gave the file, for display only (never a path)."""
    name = PurePosixPath((file.filename or "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[:255] or "upload"


def store_upload(file: FileStorage | None, category: str, allowed: tuple[str, ...], max_bytes: int | None = None) -> StoredUpload:
    """Check and keep an uploaded file; ServiceError (nothing kept) when it is refused.

    The kind comes from the file's bytes, not from its name or the browser's claim; it must
    be one of ``allowed`` (keys of KIND_TITLES). ``max_bytes`` defaults to MAX_CONTENT_LENGTH.
    """
    unknown = set(allowed) - set(KIND_TITLES)
    if unknown:
        raise ValueError(f"unknown upload kinds {sorted(unknown)}")
    if file is None or not file.filename:
        raise ServiceError(_("Please choose a file."))
    limit = max_bytes or current_app.config["MAX_CONTENT_LENGTH"]
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise ServiceError(_("The file is larger than %(size)s MB.", size=round(limit / 1024 / 1024, 1)), 413)
    if not data:
        raise ServiceError(_("The file is empty."))
    kind = filetype.guess(data)
    if kind is None or kind.extension not in allowed:
        raise ServiceError(_("This file is not of an accepted kind (%(kinds)s).",
                             kinds=", ".join(KIND_TITLES[key] for key in allowed)))
    today = beijing_today()
    relative = PurePosixPath(category, f"{today:%Y}", f"{today:%m}", f"{uuid.uuid4().hex}.{kind.extension}")
    target = upload_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, 0o640)
    os.replace(temporary, target)
    db.session.connection()  # a transaction must be open, or its rollback would not remove the file
    db.session.info.setdefault(WRITTEN_KEY, []).append(target)
    return StoredUpload(str(relative), _original_name(file), len(data), hashlib.sha256(data).hexdigest(),
                        kind.mime, kind.extension)


def upload_file(path: str) -> Path:
    """The file of a stored path; a path leaving UPLOAD_DIR or naming no file is a 404."""
    root = upload_root().resolve()
    candidate = (root / path).resolve()
    if root not in candidate.parents or not candidate.is_file():
        abort(404)
    return candidate


def send_upload(upload: StoredUpload | None = None, *, path: str | None = None, download_name: str | None = None,
                mime_type: str | None = None):
    """A download response for a stored file, always as an attachment (never rendered inline)."""
    if upload is not None:
        path, download_name, mime_type = upload.path, upload.original_name, upload.mime_type
    return send_file(upload_file(path), mimetype=mime_type or "application/octet-stream", as_attachment=True,
                     download_name=download_name or PurePosixPath(path).name)


@event.listens_for(Session, "after_commit")
def _keep_written(session) -> None:
    session.info.pop(WRITTEN_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_written(session, previous_transaction) -> None:
    """A rolled-back unit of work leaves no file behind (nothing half-written)."""
    for path in session.info.pop(WRITTEN_KEY, []):
        Path(path).unlink(missing_ok=True)
