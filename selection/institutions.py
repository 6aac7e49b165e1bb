"""The list of Beijing institutions the harvest queries works by.

OpenAlex has no filter on an institution's city, so the list is built from
``/institutions?filter=country_code:cn`` keeping ``geo.city == "Beijing"`` (reason
``geo``); staff add institutions by hand (reason ``manual``) and a refresh keeps those.
Only exact ids are listed: the lineage of the Chinese Academy of Sciences covers
institutes all over China, so CAS institutes appear one by one, never through CAS.

The file is CSV with the columns ``institution_id,display_name,city,reason,note``.

By default a harvest builds the list from the server it harvests (``list_from_server``:
every geo match plus the manual rows of the packaged list) and caches it per base URL for
``DEFAULT_MAX_AGE_DAYS`` in ``cache_dir()``; the packaged list alone (50 institutions)
misses large Beijing universities.

Umbrella institutions (``data/umbrella_institutions.csv``, columns
``institution_id,display_name,note``) are ids OpenAlex gives to authors all over China
(the CAS headquarters, ministries, national companies): such an id on a Beijing list makes
a Beijing author only when the authorship's own affiliation string places it in Beijing
(``selection.harvest.normalize``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from selection.errors import SelectionError
from selection.files import read_json, write_atomic, write_json
from selection.openalex.client import OpenAlexClient, add_connection_arguments, client_from_args
from selection.schema import short_id

DEFAULT_INSTITUTIONS_PATH = Path(__file__).parent / "data" / "beijing_institutions.csv"
DEFAULT_UMBRELLA_PATH = Path(__file__).parent / "data" / "umbrella_institutions.csv"
BEIJING_CITY = "Beijing"
REASONS = ("geo", "manual")
INSTITUTION_SELECT = ["id", "display_name", "country_code", "geo"]
DEFAULT_MAX_AGE_DAYS = 30
CACHE_DIR_VARIABLE = "SELECTION_CACHE_DIR"

_INSTITUTION_ID = re.compile(r"^I\d+$")


@dataclass(frozen=True)
class InstitutionEntry:
    """One row of the list: why an institution counts as a Beijing institution."""

    institution_id: str  # short OpenAlex id, "I99065089"
    display_name: str
    city: str
    reason: str  # "geo": OpenAlex geo.city is Beijing; "manual": added by staff
    note: str = ""


COLUMNS = tuple(f.name for f in fields(InstitutionEntry))


def load_institution_list(path: str | Path | None = None) -> dict[str, InstitutionEntry]:
    """Read the list (default: the packaged one) as ``{institution_id: entry}``.

    Raises SelectionError naming the file and line for a missing column, a bad id, an
    unknown reason or a repeated id.
    """
    path = Path(path) if path is not None else DEFAULT_INSTITUTIONS_PATH
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SelectionError(f"institution list {path} not found; pass an existing CSV file") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise SelectionError(f"{path}: missing column(s) {', '.join(missing)}; the header is {','.join(COLUMNS)}")
    entries: dict[str, InstitutionEntry] = {}
    for line, row in enumerate(reader, start=2):
        entry = InstitutionEntry(**{column: (row[column] or "").strip() for column in COLUMNS})
        if not _INSTITUTION_ID.match(entry.institution_id):
            raise SelectionError(f"{path}:{line}: institution_id {entry.institution_id!r} is not a short OpenAlex id like I99065089")
        if entry.reason not in REASONS:
            raise SelectionError(f"{path}:{line}: reason {entry.reason!r} must be one of {', '.join(REASONS)}")
        if entry.institution_id in entries:
            raise SelectionError(f"{path}:{line}: {entry.institution_id} is listed twice; keep one row")
        entries[entry.institution_id] = entry
    if not entries:
        raise SelectionError(f"institution list {path} is empty; run `python -m selection institutions` to build it")
    return entries


@dataclass(frozen=True)
class UmbrellaInstitution:
    """An id OpenAlex gives to authors all over China: on its own it places nobody in Beijing."""

    institution_id: str  # short OpenAlex id, "I19820366"
    display_name: str
    note: str = ""  # why it is an umbrella, and where its id was verified


UMBRELLA_COLUMNS = tuple(f.name for f in fields(UmbrellaInstitution))


def load_umbrella_institutions(path: str | Path | None = None) -> dict[str, UmbrellaInstitution]:
    """Read the umbrella list (default: the packaged one) as ``{institution_id: entry}``;
    a header alone is an empty list. SelectionError naming the file and line for a missing
    column, a bad id or a repeated id."""
    path = Path(path) if path is not None else DEFAULT_UMBRELLA_PATH
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SelectionError(f"umbrella institution list {path} not found; pass an existing CSV file") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in UMBRELLA_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise SelectionError(
            f"{path}: missing column(s) {', '.join(missing)}; the header is {','.join(UMBRELLA_COLUMNS)}"
        )
    entries: dict[str, UmbrellaInstitution] = {}
    for line, row in enumerate(reader, start=2):
        entry = UmbrellaInstitution(**{column: (row[column] or "").strip() for column in UMBRELLA_COLUMNS})
        if not _INSTITUTION_ID.match(entry.institution_id):
            raise SelectionError(f"{path}:{line}: institution_id {entry.institution_id!r} is not a short OpenAlex id like I19820366")
        if entry.institution_id in entries:
            raise SelectionError(f"{path}:{line}: {entry.institution_id} is listed twice; keep one row")
        entries[entry.institution_id] = entry
    return entries


def write_institution_list(entries: dict[str, InstitutionEntry], path: str | Path) -> None:
    """Write the list sorted by id, atomically (``selection.files.write_atomic``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for institution_id in sorted(entries, key=_numeric_id):
        writer.writerow(asdict(entries[institution_id]))
    write_atomic(path, buffer.getvalue().encode("utf-8"))


def beijing_institutions_from_openalex(client: OpenAlexClient) -> dict[str, InstitutionEntry]:
    """Every Chinese institution whose OpenAlex ``geo.city`` is Beijing, as ``geo`` entries."""
    query = client.institutions().filter(country_code="cn").select(INSTITUTION_SELECT)
    entries = {}
    for page in query.paginate(per_page=200, n_max=None):
        for institution in page:
            city = (institution.get("geo") or {}).get("city")
            if city == BEIJING_CITY:
                institution_id = short_id(institution["id"])
                entries[institution_id] = InstitutionEntry(
                    institution_id, institution.get("display_name") or "", city, "geo"
                )
    return entries


def merge_refresh(
    current: dict[str, InstitutionEntry], from_openalex: dict[str, InstitutionEntry]
) -> dict[str, InstitutionEntry]:
    """The refreshed list: every geo match, plus the manual rows OpenAlex does not confirm.

    A manual row that OpenAlex now places in Beijing becomes ``geo`` and keeps its note;
    ``geo`` rows that OpenAlex no longer places in Beijing are dropped.
    """
    merged = {}
    for institution_id, entry in from_openalex.items():
        note = current[institution_id].note if institution_id in current else ""
        merged[institution_id] = InstitutionEntry(entry.institution_id, entry.display_name, entry.city, "geo", note)
    for institution_id, entry in current.items():
        if entry.reason == "manual" and institution_id not in merged:
            merged[institution_id] = entry
    return merged


@dataclass(frozen=True)
class InstitutionList:
    """A list as a harvest used it: the entries and where they came from.

    ``origin``: the file's path, or ``"built from <base URL>"``. ``date``: when the file
    was last changed or the list built (ISO, UTC). ``path``: the file, or the cache file.
    """

    entries: dict[str, InstitutionEntry]
    origin: str
    date: str
    path: Path

    def describe(self) -> dict:
        """The manifest's record of the list."""
        geo = sum(entry.reason == "geo" for entry in self.entries.values())
        return {
            "list": self.origin,
            "path": str(self.path),
            "date": self.date,
            "size": len(self.entries),
            "geo": geo,
            "manual": len(self.entries) - geo,
        }


def list_from_file(path: str | Path) -> InstitutionList:
    """An edited list file, dated by its last change."""
    path = Path(path)
    entries = load_institution_list(path)
    changed = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    return InstitutionList(entries, str(path), changed.isoformat(timespec="seconds"), path)


def cache_dir() -> Path:
    """Where lists built from a server are kept: ``$SELECTION_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/capital-academic-selection``, else ``~/.cache/capital-academic-selection``."""
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "capital-academic-selection"


def cached_list_path(base_url: str) -> Path:
    """The cache file of the list built from ``base_url`` (one per server, readable name)."""
    parts = urlsplit(base_url)
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.netloc + parts.path).strip("_") or "server"
    return cache_dir() / "institutions" / f"{readable}-{hashlib.sha256(base_url.encode()).hexdigest()[:12]}.csv"


def list_from_server(client: OpenAlexClient, max_age_days: int, now: dt.datetime | None = None) -> InstitutionList:
    """The list of ``client``'s server: every institution it places in Beijing, plus the
    manual rows of the packaged list, taken from the cache when it was built at most
    ``max_age_days`` ago (0: always built anew), else built and cached.

    SelectionError when the server places no institution in Beijing (it serves no
    institutions, or not their geo): a harvest would then miss nearly everything.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    path = cached_list_path(client.base_url)
    about = path.with_suffix(".json")
    cached = _cached_list(path, about, client.base_url, now - dt.timedelta(days=max_age_days))
    if cached is not None:
        return cached
    from_server = beijing_institutions_from_openalex(client)
    if not from_server:
        raise SelectionError(
            f"{client.base_url} places no institution in Beijing (geo.city), so the list cannot be built from it; "
            "pass --institutions FILE"
        )
    entries = merge_refresh(load_institution_list(DEFAULT_INSTITUTIONS_PATH), from_server)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_institution_list(entries, path)
    built_at = now.isoformat(timespec="seconds")
    write_json(about, {"base_url": client.base_url, "built_at": built_at, "institutions": len(entries)})
    return InstitutionList(entries, f"built from {client.base_url}", built_at, path)


def _cached_list(path: Path, about: Path, base_url: str, built_after: dt.datetime) -> InstitutionList | None:
    """The cached list of ``base_url`` when it was built after ``built_after``; None when
    there is none, it is older, or the cache cannot be read (it is then built anew)."""
    try:
        built = read_json(about)
        built_at = dt.datetime.fromisoformat(built["built_at"])
        if built["base_url"] != base_url or built_at <= built_after:
            return None
        return InstitutionList(load_institution_list(path), f"built from {base_url}", built["built_at"], path)
    except (OSError, ValueError, KeyError, TypeError, SelectionError):
        return None


def register(subparsers) -> None:
    """``python -m selection institutions``: refresh the Beijing institution list."""
    parser = subparsers.add_parser(
        "institutions",
        help="refresh the Beijing institution list from OpenAlex (keeps manual rows)",
        description="List Chinese institutions in OpenAlex, keep those whose geo.city is Beijing, "
        "keep the manual rows of the current list, write the CSV.",
    )
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write")
    parser.add_argument(
        "--current",
        type=Path,
        help="list whose manual rows to keep (default: --out if it exists, else the packaged list)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(func=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    """The ``institutions`` subcommand."""
    current_path = args.current or (args.out if args.out.exists() else DEFAULT_INSTITUTIONS_PATH)
    current = load_institution_list(current_path)
    client = client_from_args(args)
    merged = merge_refresh(current, beijing_institutions_from_openalex(client))
    write_institution_list(merged, args.out)
    geo = sum(entry.reason == "geo" for entry in merged.values())
    print(f"{args.out}: {len(merged)} institutions ({geo} by geo, {len(merged) - geo} manual); "
          f"{client.stats.requests} requests")
    return 0


def _numeric_id(institution_id: str) -> int:
    return int(institution_id[1:])
