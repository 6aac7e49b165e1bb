"""``python -m selection conflicts``: which experts may not review which candidates, and why.

``conflicts.csv`` has the columns ``expert_id,work_id,kind,detail``, one row per expert,
candidate and kind (every reason of that kind in ``detail``, separated by ``; ``):

- ``author``: the expert's OpenAlex author id is an author of the candidate;
- ``institution``: an institution of the expert is an institution of one of the
  candidate's authorships, contains one (is in its lineage) or is part of one (the
  candidate's institution is in the lineage of the expert's, as far as authorships with
  that one institution show its lineage: the command reads those of the candidates and of
  the experts' own works);
- ``coauthor``: the expert co-authored a work of the ``--works`` tables with one of the
  candidate's authors within ``coauthor_years`` years before the candidate's publication
  year or in it; works with more than ``max_authors`` authors make no co-author conflict;
- ``declared``: the candidate is among the expert's ``declared_work_ids``.

Tables without ``authorships`` (schema version 1) are read too: the checks they cannot
support are left out and the command says which, for which file.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from selection.errors import SelectionError
from selection.files import write_atomic
from selection.panel.experts import Expert, read_experts
from selection.schema import TABLE_KEY, schema_version

KINDS = ("author", "institution", "coauthor", "declared")
COLUMNS = ("expert_id", "work_id", "kind", "detail")
DEFAULT_COAUTHOR_YEARS = 3
DEFAULT_MAX_AUTHORS = 100

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Conflict:
    """One row of ``conflicts.csv``."""

    expert_id: str
    work_id: str
    kind: str  # one of KINDS
    detail: str  # why, in plain words with the ids and names


def find_conflicts(
    candidates: pd.DataFrame,
    works_frames: Iterable[pd.DataFrame],
    experts: list[Expert],
    coauthor_years: int = DEFAULT_COAUTHOR_YEARS,
    max_authors: int = DEFAULT_MAX_AUTHORS,
) -> list[Conflict]:
    """The conflicts of ``experts`` with the candidates (columns ``work_id``,
    ``publication_year`` and, when known, ``authorships``), co-authorships taken from the
    works frames that have ``authorships``; ordered by expert, candidate and kind."""
    works_frames = [frame for frame in works_frames if "authorships" in frame]
    lineages = _known_lineages([candidates, *works_frames])
    coauthors = _coauthors(works_frames, {expert.author_id for expert in experts if expert.author_id}, max_authors)
    found: dict[tuple[int, str, int], dict[str, None]] = {}
    for candidate in _works(candidates):
        work_id, year, authors = candidate
        for number, expert in enumerate(experts):
            reasons = {
                "author": _author_reasons(expert, candidate),
                "institution": _institution_reasons(expert, authors, lineages),
                "coauthor": _coauthor_reasons(expert, candidate, coauthors, coauthor_years),
                "declared": [f"the expert declared a conflict with {work_id}"] if work_id in expert.declared_work_ids else [],
            }
            for kind, texts in reasons.items():
                if texts:
                    found.setdefault((number, work_id, KINDS.index(kind)), {}).update(dict.fromkeys(texts))
    return [
        Conflict(experts[number].expert_id, work_id, KINDS[kind], "; ".join(texts))
        for (number, work_id, kind), texts in sorted(found.items())
    ]


def _works(frame: pd.DataFrame):
    """``(work_id, publication_year or None, authorships as dicts)`` per row; no
    ``authorships`` column means no authors."""
    authorships = frame["authorships"] if "authorships" in frame else [None] * len(frame)
    for work_id, year, authors in zip(frame["work_id"], frame["publication_year"], authorships):
        yield work_id, _year(year), [] if authors is None else list(authors)


def _year(value) -> int | None:
    """A publication year, or None for a missing one (None, NaN, pandas' NA)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _dated(work_id: str, year: int | None) -> str:
    """``W123 (2024)``, or ``W123`` without a year."""
    return work_id if year is None else f"{work_id} ({year})"


def _person(author: dict) -> str:
    """``张三 A456``: the name and the author id, whichever are known."""
    return " ".join(part for part in (author.get("name"), author.get("author_id")) if part) or "an unnamed author"


def _ids(values) -> tuple[str, ...]:
    return () if values is None else tuple(values)


def _known_lineages(frames: list[pd.DataFrame]) -> dict[str, set[str]]:
    """Institution id -> its lineage (itself included), from the authorships with exactly
    one institution, whose ``lineage_ids`` are that institution's alone."""
    lineages: dict[str, set[str]] = {}
    for frame in frames:
        for _, _, authors in _works(frame):
            for author in authors:
                institution_ids = _ids(author.get("institution_ids"))
                if len(institution_ids) == 1:
                    lineages.setdefault(institution_ids[0], set()).update(_ids(author.get("lineage_ids")))
    return lineages


def _coauthors(frames: list[pd.DataFrame], author_ids: set[str], max_authors: int) -> dict[str, dict[str, list]]:
    """Expert author id -> co-author id -> ``(work_id, year)`` of the works they share, from
    works of at most ``max_authors`` authors with a publication year, each work once."""
    coauthors: dict[str, dict[str, list]] = {}
    seen = set()
    for frame in frames:
        for work_id, year, authors in _works(frame):
            if work_id in seen or year is None or len(authors) > max_authors:
                continue
            seen.add(work_id)
            present = {author.get("author_id") for author in authors} - {None}
            for expert_author in present & author_ids:
                for other in present - {expert_author}:
                    coauthors.setdefault(expert_author, {}).setdefault(other, []).append((work_id, year))
    return coauthors


def _author_reasons(expert: Expert, candidate) -> list[str]:
    work_id, year, authors = candidate
    return [
        f"the expert is an author of {_dated(work_id, year)}: {_person(author)}"
        for author in authors if expert.author_id and author.get("author_id") == expert.author_id
    ]


def _institution_reasons(expert: Expert, authors: list[dict], lineages: dict[str, set[str]]) -> list[str]:
    reasons = []
    for author in authors:
        institution_ids = _ids(author.get("institution_ids"))
        lineage_ids = set(_ids(author.get("lineage_ids")))
        for expert_institution in expert.institution_ids:
            if expert_institution in institution_ids:
                reasons.append(f"{_person(author)} is at {expert_institution}, the expert's institution")
            elif expert_institution in lineage_ids:
                # Of several institutions on the authorship, those known to lie under it (else all).
                parts = [i for i in institution_ids if expert_institution in lineages.get(i, ())]
                reasons += [f"{_person(author)} is at {part}, part of the expert's institution {expert_institution}"
                            for part in parts or institution_ids]
            else:
                wider = [i for i in institution_ids if i in lineages.get(expert_institution, ())]
                reasons += [f"{_person(author)} is at {whole}, of which the expert's institution "
                            f"{expert_institution} is part" for whole in wider]
    return reasons


def _coauthor_reasons(expert: Expert, candidate, coauthors: dict, coauthor_years: int) -> list[str]:
    work_id, year, authors = candidate
    shared = coauthors.get(expert.author_id) if expert.author_id else None
    if not shared or year is None:
        return []
    return [
        f"co-authored {_dated(other_work, other_year)} with {_person(author)}"
        for author in authors if author.get("author_id") != expert.author_id
        for other_work, other_year in shared.get(author.get("author_id"), ())
        if other_work != work_id and year - coauthor_years <= other_year <= year
    ]


# -- the command ------------------------------------------------------------------------


def _version_text(schema) -> str:
    """``works schema version 1`` (the table a file names and its version), or
    ``no schema version``."""
    table = (schema.metadata or {}).get(TABLE_KEY)
    version = schema_version(schema, table.decode()) if table else None
    return f"{table.decode()} schema version {version}" if version is not None else "no schema version"


def read_frame(path: Path, author_ids: set[str] | None = None) -> tuple[pd.DataFrame, str]:
    """``work_id``, ``publication_year`` and (when the file has it) ``authorships`` of a
    Parquet file, and its schema version in words; with ``author_ids``, only the rows with
    one of these authors. SelectionError naming the file when it cannot serve."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise SelectionError(f"{path}: no such file") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise SelectionError(f"{path} is not a Parquet file ({exc})") from None
    missing = [name for name in ("work_id", "publication_year") if name not in schema.names]
    if missing:
        raise SelectionError(f"{path} lacks the column(s) {', '.join(missing)}; give a works or candidates table")
    columns = ["work_id", "publication_year", *(["authorships"] if "authorships" in schema.names else [])]
    table = pq.read_table(path, columns=columns)
    if author_ids is not None and "authorships" in columns:
        authorships = table["authorships"].combine_chunks()
        author_column = pc.struct_field(pc.list_flatten(authorships), "author_id")
        matches = pc.is_in(author_column, value_set=pa.array(sorted(author_ids), pa.string()))
        rows = pc.unique(pc.filter(pc.list_parent_indices(authorships), matches))
        table = table.take(rows)
    return table.to_pandas(), _version_text(schema)


def write_conflicts(path: Path, conflicts: list[Conflict]) -> None:
    """``conflicts.csv`` (UTF-8), atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows((c.expert_id, c.work_id, c.kind, c.detail) for c in conflicts)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue().encode("utf-8"))


def register(subparsers) -> None:
    """``python -m selection conflicts``."""
    parser = subparsers.add_parser(
        "conflicts",
        help="list the conflicts of interest between the experts and the candidates (conflicts.csv)",
        description="Write conflicts.csv (expert_id,work_id,kind,detail): an expert who is an author of a "
        "candidate, works at (or above, or under) one of its authors' institutions, co-authored a work with one "
        "of its authors in the years before it, or declared a conflict with it.",
    )
    parser.add_argument("--works", type=Path, action="append", required=True,
                        help="works.parquet of a harvest or expert_works.parquet of expert-works (repeat for more)")
    parser.add_argument("--candidates", type=Path, required=True, help="candidates.parquet of python -m selection rank")
    parser.add_argument("--experts", type=Path, required=True, help="experts.csv")
    parser.add_argument("--out", type=Path, required=True, help="the conflicts.csv to write")
    parser.add_argument("--coauthor-years", type=int, default=DEFAULT_COAUTHOR_YEARS,
                        help=f"co-authorships count this many years before the candidate's year, and in it "
                        f"(default {DEFAULT_COAUTHOR_YEARS})")
    parser.add_argument("--max-authors", type=int, default=DEFAULT_MAX_AUTHORS,
                        help=f"works with more authors make no co-author conflict (default {DEFAULT_MAX_AUTHORS})")
    parser.set_defaults(func=run_conflicts)


def run_conflicts(args: argparse.Namespace) -> int:
    """Read and check everything, find the conflicts, write them, say what was not checked."""
    if args.coauthor_years < 0:
        raise SelectionError("--coauthor-years must be 0 (the candidate's year only) or more")
    if args.max_authors < 1:
        raise SelectionError("--max-authors must be at least 1")
    experts = read_experts(args.experts)
    author_ids = {expert.author_id for expert in experts if expert.author_id}
    candidates, candidates_version = read_frame(args.candidates)
    works = [(path, *read_frame(path, author_ids)) for path in args.works]
    warnings, not_made = [], []
    if "authorships" not in candidates:
        warnings.append(f"{args.candidates} ({candidates_version}) has no authorships: the author, institution and "
                        f"co-author checks were not made for its {len(candidates)} candidates; rank again with this "
                        "version to make them")
        not_made.append(f"author, institution and coauthor for {args.candidates}")
    for path, frame, version in works:
        if "authorships" not in frame:
            warnings.append(f"{path} ({version}) has no authorships: no co-author check was made with its works; "
                            "renormalise the harvest (python -m selection renormalise DIR) or give expert_works.parquet")
            not_made.append(f"coauthor with {path}")
    without_id = [expert.expert_id for expert in experts if not expert.author_id]
    if without_id:
        warnings.append(f"{len(without_id)} expert(s) without an OpenAlex author id ({', '.join(without_id)}): "
                        "the author and co-author checks were not made for them")
        not_made.append(f"author and coauthor for {len(without_id)} expert(s) without an author id")
    conflicts = find_conflicts(candidates, [frame for _, frame, _ in works], experts, args.coauthor_years,
                               args.max_authors)
    write_conflicts(args.out, conflicts)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    by_kind = ", ".join(f"{sum(c.kind == kind for c in conflicts)} {kind}" for kind in KINDS)
    print(
        f"{args.out}: {len(conflicts)} conflicts ({by_kind}) of {len(experts)} experts with {len(candidates)} "
        f"candidates; " + (f"checks not made: {'; '.join(not_made)}" if not_made else "every check made")
    )
    return 0
