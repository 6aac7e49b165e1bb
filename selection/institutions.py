"""The editable list of Beijing institutions the harvest queries works by.

OpenAlex has no filter on an institution's city, so the list is built from
``/institutions?filter=country_code:cn`` keeping ``geo.city == "Beijing"`` (reason
``geo``); staff add institutions by hand (reason ``manual``) and a refresh keeps those.
Only exact ids are listed: the lineage of the Chinese Academy of Sciences covers
institutes all over China, so CAS institutes appear one by one, never through CAS.

The file is CSV with the columns ``institution_id,display_name,city,reason,note``.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from selection.errors import SelectionError
from selection.files import write_atomic
from selection.openalex.client import OpenAlexClient, add_connection_arguments, client_from_args
from selection.schema import short_id

DEFAULT_INSTITUTIONS_PATH = Path(__file__).parent / "data" / "beijing_institutions.csv"
BEIJING_CITY = "Beijing"
REASONS = ("geo", "manual")
INSTITUTION_SELECT = ["id", "display_name", "country_code", "geo"]

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
