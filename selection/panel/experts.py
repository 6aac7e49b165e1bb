"""``experts.csv``: the panel's experts, as the conflicts and assignment commands read it.

Columns ``expert_id,name,openalex_author_id,institution_ids``; ``institution_ids`` holds
OpenAlex institution ids separated by ``|``; ids may be short (``I99065089``, ``A5023888391``)
or full (``https://openalex.org/I99065089``). Optional columns: ``subfield_ids`` (OpenAlex
subfield ids separated by ``|``, for affinity) and ``declared_work_ids`` (candidates the
expert declares a conflict with, separated by ``|``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from selection.errors import SelectionError

REQUIRED_COLUMNS = ("expert_id", "name", "openalex_author_id", "institution_ids")
_ID = re.compile(r"^(?:https?://openalex\.org/)?([AIWST]\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Expert:
    expert_id: str
    name: str
    author_id: str | None  # short OpenAlex author id, or None when unknown
    institution_ids: tuple[str, ...]  # short OpenAlex institution ids
    subfield_ids: tuple[str, ...] = ()
    declared_work_ids: tuple[str, ...] = ()


def short_openalex_id(value: str, kind: str, where: str) -> str:
    """``https://openalex.org/I123`` or ``I123`` -> ``I123``; ``kind`` is the expected letter."""
    match = _ID.match(value.strip())
    if not match or match.group(1)[0].upper() != kind:
        raise SelectionError(f"{where}: {value!r} is not an OpenAlex {kind}-id")
    return match.group(1)[0].upper() + match.group(1)[1:]


def _ids(cell: str | None, kind: str, where: str) -> tuple[str, ...]:
    parts = [part.strip() for part in (cell or "").split("|") if part.strip()]
    return tuple(dict.fromkeys(short_openalex_id(part, kind, where) for part in parts))


def read_experts(path: str | Path) -> list[Expert]:
    """The experts of ``path``; a missing column, a duplicate id or a malformed OpenAlex id
    stops with one SelectionError naming the file and line."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or ())]
            if missing:
                raise SelectionError(f"{path}: missing column(s) {', '.join(missing)}")
            experts, seen = [], set()
            for line, row in enumerate(reader, start=2):
                where = f"{path}:{line}"
                expert_id = (row["expert_id"] or "").strip()
                if not expert_id:
                    raise SelectionError(f"{where}: empty expert_id")
                if expert_id in seen:
                    raise SelectionError(f"{where}: expert_id {expert_id!r} appears twice")
                seen.add(expert_id)
                author = (row["openalex_author_id"] or "").strip()
                experts.append(Expert(
                    expert_id=expert_id,
                    name=(row["name"] or "").strip(),
                    author_id=short_openalex_id(author, "A", where) if author else None,
                    institution_ids=_ids(row["institution_ids"], "I", where),
                    subfield_ids=tuple(part.strip().rsplit("/", 1)[-1] for part in (row.get("subfield_ids") or "")
                                       .split("|") if part.strip()),
                    declared_work_ids=_ids(row.get("declared_work_ids"), "W", where),
                ))
    except FileNotFoundError:
        raise SelectionError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SelectionError(f"{path}: not UTF-8 text") from None
    if not experts:
        raise SelectionError(f"{path}: no experts")
    return experts
