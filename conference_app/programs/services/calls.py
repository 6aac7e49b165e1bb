"""Calls as data: a validated YAML file becomes a ``Call`` (its definition kept whole as a
JSON snapshot, its categories as rows for the queries), loaded, updated while no application
depends on its rules, published and closed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from conference_app.audit.services import record, register_action_titles, register_object_type_titles
from conference_app.core.db import utcnow
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.programs.call_schema import CallDefinition, CallFileError, parse_call
from conference_app.programs.models import Application, Call, CallCategory, CallStatus

register_object_type_titles({"Call": _l("Call")})
register_action_titles({
    "call.loaded": _l("Call loaded"),
    "call.updated": _l("Call updated"),
    "call.published": _l("Call published"),
    "call.closed": _l("Call closed"),
})

MAX_CALL_FILE_BYTES = 512 * 1024


@dataclass(frozen=True)
class LoadResult:
    call: Call
    created: bool
    changed: bool


_DEFINITIONS: dict[str, CallDefinition] = {}


def call_definition(call: Call) -> CallDefinition:
    """The call's validated definition, read back from its snapshot (once per source file:
    the SHA-256 of the file it was loaded from names the snapshot)."""
    definition = _DEFINITIONS.get(call.source_sha256)
    if definition is None:
        definition = _DEFINITIONS[call.source_sha256] = CallDefinition.model_validate(call.definition)
    return definition


def parse_upload(data: bytes, filename: str) -> CallDefinition:
    """A call file's bytes, validated; CallFileError lists every problem as FILE:LINE: path: message."""
    if len(data) > MAX_CALL_FILE_BYTES:
        raise CallFileError([f"{filename}:1: (file): larger than {MAX_CALL_FILE_BYTES // 1024} KB"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CallFileError([f"{filename}:1: (file): not UTF-8 text"]) from None
    return parse_call(text, filename)


def application_count(call: Call) -> int:
    return db.session.scalar(select(func.count()).select_from(Application).where(Application.call_id == call.id))


def _category_columns(category) -> dict[str, Any]:
    return {
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "cap_fen": category.cap_fen,
        "amount_is_fixed": category.amount_fen is not None,
        "quota": category.quota,
        "budget_fen": None if category.budget_cny is None else category.budget_cny * 100,
        "per_district_quota": category.per_district_quota,
        "period_start": category.period.start if category.period else None,
        "period_end": category.period.end if category.period else None,
    }


def _call_columns(definition: CallDefinition) -> dict[str, Any]:
    return {
        "year": definition.year,
        "title_zh": definition.title_zh,
        "title_en": definition.title_en,
        "opens_on": definition.opens,
        "closes_on": definition.closes,
        "budget_fen": None if definition.budget_cny is None else definition.budget_cny * 100,
    }


def load_call(definition: CallDefinition, *, source_name: str, source: bytes, actor=None) -> LoadResult:
    """Create the call of ``definition`` or update the one with its code.

    Once a call has applications its rules are what those applications were written and
    judged against: an update is then refused, whatever it changes.
    """
    snapshot = definition.model_dump(mode="json")
    sha256 = hashlib.sha256(source).hexdigest()
    call = db.session.scalar(select(Call).where(Call.code == definition.code))
    if call is not None and call.definition == snapshot:
        return LoadResult(call, created=False, changed=False)
    if call is not None:
        count = application_count(call)
        if count:
            raise ServiceError(_(
                "Call %(code)s already has %(count)d applications: its rules cannot change any more. "
                "Publish the changed rules as a new call with another code.", code=call.code, count=count), 409)
    created = call is None
    if created:
        call = Call(code=definition.code, status=CallStatus.DRAFT)
        db.session.add(call)
    for name, value in _call_columns(definition).items():
        setattr(call, name, value)
    call.definition, call.source_name, call.source_sha256 = snapshot, source_name, sha256
    existing = {category.code: category for category in call.categories}
    for position, category in enumerate(definition.categories):
        row = existing.pop(category.code, None) or CallCategory(code=category.code)
        if row not in call.categories:
            call.categories.append(row)
        row.position = position
        for name, value in _category_columns(category).items():
            setattr(row, name, value)
    for row in existing.values():
        call.categories.remove(row)
    db.session.flush()
    record("call.loaded" if created else "call.updated", call, actor=actor,
           details={"file": source_name, "sha256": sha256, "categories": [c.code for c in definition.categories]})
    return LoadResult(call, created=created, changed=True)


def publish_call(call: Call, *, actor) -> None:
    """Open a draft call to applicants (they apply between its opening and closing dates)."""
    if call.status != CallStatus.DRAFT:
        raise ServiceError(_("Only a draft call can be published."), 409)
    call.status, call.published_at = CallStatus.PUBLISHED, utcnow()
    record("call.published", call, from_state="draft", to_state="published", actor=actor)
