"""The disciplines of the selection as sets of OpenAlex subfields, read from an editable
TOML file (``selection/data/disciplines.toml``).

A discipline lists whole fields (``fields = [26]``), single subfields and
``exclude_subfields``. OpenAlex subfield ids are ``field * 100 + n``, so a field expands to
the ids ``F00..F99`` without the taxonomy file; the tests check that rule against the real
taxonomy. Every subfield belongs to at most one discipline: an overlap is an error.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from selection.errors import SelectionError

DEFAULT_DISCIPLINES_PATH = Path(__file__).parent / "data" / "disciplines.toml"
BRANCHES = ("basic", "applied_basic")

_ALLOWED_ENTRIES = {"name_zh", "name_en", "branch", "fields", "subfields", "exclude_subfields"}
_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Discipline:
    """One discipline: its key, names, research branch and the subfields it covers.

    ``subfield_ids`` holds every id the discipline claims, whole fields expanded to
    ``F00..F99`` (so it may contain ids OpenAlex does not use yet).
    """

    key: str
    name_zh: str
    name_en: str
    branch: str
    subfield_ids: frozenset[int]
    # The mapping as written in the file, for people to read.
    fields: tuple[int, ...] = ()
    added_subfields: tuple[int, ...] = ()
    excluded_subfields: tuple[int, ...] = ()

    @property
    def definition(self) -> str:
        """The mapping as written: whole fields in brackets, then added and excluded subfields."""
        parts = [f"[{field}]" for field in self.fields]
        parts += [str(subfield) for subfield in self.added_subfields]
        parts += [f"-{subfield}" for subfield in self.excluded_subfields]
        return " ".join(parts)


class DisciplineMap:
    """The disciplines of one mapping file and the subfield -> discipline lookup."""

    def __init__(self, disciplines: list[Discipline]):
        self._by_key = {discipline.key: discipline for discipline in disciplines}
        self._by_subfield = {
            subfield_id: discipline.key
            for discipline in disciplines
            for subfield_id in discipline.subfield_ids
        }

    def keys(self) -> list[str]:
        """Discipline keys in file order."""
        return list(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self):
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str) -> Discipline:
        """The discipline with this key; SelectionError naming the known keys otherwise."""
        try:
            return self._by_key[key]
        except KeyError:
            known = ", ".join(self._by_key)
            raise SelectionError(f"unknown discipline {key!r}; known disciplines: {known}") from None

    def for_subfield(self, subfield_id: int | None) -> str | None:
        """The key of the discipline covering this subfield, or None when unmapped."""
        if subfield_id is None:
            return None
        return self._by_subfield.get(subfield_id)


def load_disciplines(path: str | Path | None = None) -> DisciplineMap:
    """Read and check a disciplines TOML file (default: the packaged one).

    Raises SelectionError for an unreadable file, an unknown entry, a bad id, an empty
    discipline or a subfield claimed by two disciplines.
    """
    path = Path(path) if path is not None else DEFAULT_DISCIPLINES_PATH
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectionError(f"disciplines file {path} not found; pass an existing TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SelectionError(f"disciplines file {path} is not valid TOML: {exc}") from None
    disciplines = [_parse_discipline(path, key, table) for key, table in document.items()]
    if not disciplines:
        raise SelectionError(f"disciplines file {path} defines no discipline")
    _reject_overlaps(path, disciplines)
    return DisciplineMap(disciplines)


def _parse_discipline(path: Path, key: str, table: object) -> Discipline:
    where = f"{path}: [{key}]"
    if not isinstance(table, dict):
        raise SelectionError(f"{where} must be a table ([{key}] with name_zh, name_en, branch ...)")
    if not _KEY_PATTERN.match(key):
        raise SelectionError(f"{where}: discipline keys are lower-case snake_case, e.g. earth_sciences")
    unknown = sorted(set(table) - _ALLOWED_ENTRIES)
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED_ENTRIES))
        raise SelectionError(f"{where}: unknown entry {', '.join(unknown)}; allowed: {allowed}")
    names = {}
    for name in ("name_zh", "name_en", "branch"):
        value = table.get(name)
        if not isinstance(value, str) or not value.strip():
            raise SelectionError(f"{where}: {name} must be a non-empty string")
        names[name] = value.strip()
    if names["branch"] not in BRANCHES:
        raise SelectionError(f"{where}: branch must be one of {', '.join(BRANCHES)}")

    fields = _id_list(where, table, "fields", 10, 99)
    subfields = _id_list(where, table, "subfields", 1000, 9999)
    excluded = _id_list(where, table, "exclude_subfields", 1000, 9999)
    outside = sorted(sid for sid in excluded if sid // 100 not in fields)
    if outside:
        raise SelectionError(f"{where}: exclude_subfields {outside} are not in its fields {sorted(fields)}")
    expanded = {field * 100 + n for field in fields for n in range(100)}
    subfield_ids = frozenset((expanded - excluded) | subfields)
    if not subfield_ids:
        raise SelectionError(f"{where}: list at least one of fields or subfields")
    return Discipline(
        key,
        names["name_zh"],
        names["name_en"],
        names["branch"],
        subfield_ids,
        fields=tuple(sorted(fields)),
        added_subfields=tuple(sorted(subfields)),
        excluded_subfields=tuple(sorted(excluded)),
    )


def _id_list(where: str, table: dict, name: str, lowest: int, highest: int) -> set[int]:
    values = table.get(name, [])
    if not isinstance(values, list):
        raise SelectionError(f"{where}: {name} must be a list of integers, e.g. {name} = [{lowest}]")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            raise SelectionError(
                f"{where}: {name} holds {value!r}; use integer OpenAlex ids between {lowest} and {highest}"
            )
    return set(values)


def _reject_overlaps(path: Path, disciplines: list[Discipline]) -> None:
    owner: dict[int, str] = {}
    for discipline in disciplines:
        for subfield_id in sorted(discipline.subfield_ids):
            other = owner.setdefault(subfield_id, discipline.key)
            if other != discipline.key:
                raise SelectionError(
                    f"{path}: subfield {subfield_id} is in both [{other}] and [{discipline.key}]; "
                    "keep it in one (add it to exclude_subfields of the other)"
                )
