"""``python -m selection expert-works``: every expert's works since a year, fetched from
OpenAlex by author id, for the conflict checks (``python -m selection conflicts``).

The folder ``--out`` holds

- ``expert_works.parquet`` (``EXPERT_WORKS_SCHEMA``): one row per expert and work, with
  ``expert_id``, ``work_id``, ``publication_year`` and ``authorships``
  (``selection.schema.AUTHORSHIPS_TYPE``), experts in the order of the experts file, works
  by id;
- ``state/expert-<expert_id>.json``: one checkpoint per expert fetched (its works), so that
  ``--resume`` fetches only the experts not yet done;
- ``manifest.json``: status, ``from_year``, ``base_url``, every expert (fetched, pending, or
  skipped without an author id), counts and requests.

Works of every type count; the query is ``authorships.author.id`` and
``from_publication_date`` with cursor paging, through the harvest's OpenAlex client (base
URL, one rate limit, retries). The panel may not import the harvest's normaliser (it needs
the reference data), so ``authorships_of`` builds the column here, to the same values.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from selection.errors import SelectionError
from selection.files import read_json, write_atomic, write_json
from selection.openalex.client import PER_PAGE_MAX, OpenAlexClient, add_connection_arguments, client_from_args
from selection.panel.experts import Expert, read_experts
from selection.schema import AUTHORSHIPS_TYPE, TABLE_KEY, VERSION_KEY, short_id

COMMAND = "expert-works"
WORKS_FILE = "expert_works.parquet"
MANIFEST_FILE = "manifest.json"
STATE_FOLDER = "state"
WORK_SELECT = ("id", "publication_year", "authorships")
EXPERT_WORKS_SCHEMA_VERSION = 1

EXPERT_WORKS_SCHEMA = pa.schema(
    [
        ("expert_id", pa.string()),  # as in experts.csv
        ("work_id", pa.string()),  # "W2741809807"; unique per expert
        ("publication_year", pa.int32()),
        ("authorships", AUTHORSHIPS_TYPE),
    ],
    metadata={TABLE_KEY: b"expert_works", VERSION_KEY: str(EXPERT_WORKS_SCHEMA_VERSION).encode()},
)


def authorships_of(work: dict) -> list[dict]:
    """The ``authorships`` value of a work JSON, as the harvest's normaliser makes it: every
    author in order, short ids, ORCID without its prefix, lineages each once in order, the
    institutions' names; ``is_beijing`` is None (an expert's works are not attributed)."""
    return [_authorship(authorship) for authorship in work.get("authorships") or ()]


def _authorship(authorship: dict) -> dict:
    author = authorship.get("author") or {}
    institutions = [
        (short_id(institution.get("id")), [short_id(member) for member in institution.get("lineage") or () if member],
         institution.get("display_name"))
        for institution in authorship.get("institutions") or ()
    ]
    orcid = author.get("orcid")
    corresponding = authorship.get("is_corresponding")
    return {
        "author_id": short_id(author.get("id")),
        "name": author.get("display_name") or authorship.get("raw_author_name"),
        "orcid": orcid.strip().rsplit("orcid.org/", 1)[-1] if orcid else None,
        "position": authorship.get("author_position"),
        "is_corresponding": None if corresponding is None else bool(corresponding),
        "institution_ids": [institution_id for institution_id, _, _ in institutions if institution_id],
        "lineage_ids": list(dict.fromkeys(member for _, lineage, _ in institutions for member in lineage)),
        "institution_names": [name for institution_id, _, name in institutions if institution_id],
        "is_beijing": None,
    }


def author_works_query(client: OpenAlexClient, author_id: str, from_year: int):
    """The pyalex query of an author's works published since 1 January of ``from_year``."""
    return (
        client.works()
        .filter(authorships={"author": {"id": author_id}}, from_publication_date=f"{from_year}-01-01")
        .select(list(WORK_SELECT))
    )


def fetch_author_works(client: OpenAlexClient, author_id: str, from_year: int, per_page: int = PER_PAGE_MAX) -> dict:
    """Every work of ``author_id`` since ``from_year`` by cursor paging: ``works`` (rows of
    work_id, publication_year, authorships, by id), ``pages``, ``requests``, ``retries``,
    ``cost_usd``."""
    works: dict[str, dict] = {}
    pages = requests = 0
    cost_usd = 0.0
    for listing in author_works_query(client, author_id, from_year).paginate(per_page=per_page, n_max=None):
        page = listing.page
        pages += 1
        requests += page.attempts
        cost_usd += float(page.meta.get("cost_usd") or 0.0)
        for work in page.results:
            work_id = short_id(work.get("id"))
            year = work.get("publication_year")
            if work_id:
                works.setdefault(work_id, {
                    "work_id": work_id,
                    "publication_year": year if isinstance(year, int) else None,
                    "authorships": authorships_of(work),
                })
        # OpenAlex ends a chain with an empty page; a short page or the count spares it.
        if (not page.results or not page.meta.get("next_cursor") or len(page.results) < per_page
                or len(works) >= int(page.meta.get("count") or 0)):
            break
    return {
        "works": [works[work_id] for work_id in sorted(works)],
        "pages": pages,
        "requests": requests,
        "retries": requests - pages,
        "cost_usd": round(cost_usd, 6),
    }


def checkpoint_path(out: Path, expert_id: str) -> Path:
    """The checkpoint file of one expert (the id quoted into a safe file name)."""
    return out / STATE_FOLDER / f"expert-{quote(expert_id, safe='')}.json"


def expert_works_table(experts: list[Expert], states: dict[str, dict]) -> pa.Table:
    """The rows of the fetched experts' checkpoints as a table of ``EXPERT_WORKS_SCHEMA``."""
    rows = [
        {"expert_id": expert.expert_id, **work}
        for expert in experts if expert.expert_id in states
        for work in states[expert.expert_id]["works"]
    ]
    return pa.Table.from_pylist(rows, schema=EXPERT_WORKS_SCHEMA)


def fetch_expert_works(
    client: OpenAlexClient, experts: list[Expert], out: str | Path, from_year: int, resume: bool = False,
    per_page: int = PER_PAGE_MAX,
) -> dict:
    """Fetch (or, with ``resume``, continue fetching) the works of every expert with an
    author id into ``out``; returns the final manifest."""
    out = Path(out)
    previous = _prepare(out, resume, from_year)
    states = {}
    for expert in experts:
        path = checkpoint_path(out, expert.expert_id)
        if previous is not None and expert.author_id and path.exists():
            state = read_json(path)
            if state["author_id"] == expert.author_id and state["from_year"] == from_year:
                states[expert.expert_id] = state
    write_json(out / MANIFEST_FILE, _manifest(experts, states, from_year, client, "running"))
    (out / STATE_FOLDER).mkdir(exist_ok=True)
    try:
        for expert in experts:
            if expert.author_id is None or expert.expert_id in states:
                continue
            state = {"expert_id": expert.expert_id, "author_id": expert.author_id, "from_year": from_year,
                     **fetch_author_works(client, expert.author_id, from_year, per_page)}
            write_json(checkpoint_path(out, expert.expert_id), state)
            states[expert.expert_id] = state
        table = expert_works_table(experts, states)
        write_atomic(out / WORKS_FILE, lambda temporary: pq.write_table(table, temporary))
    except KeyboardInterrupt:
        write_json(out / MANIFEST_FILE, _manifest(experts, states, from_year, client, "interrupted",
                                                  "interrupted; run again with --resume"))
        raise
    except SelectionError as exc:
        write_json(out / MANIFEST_FILE, _manifest(experts, states, from_year, client, "failed", str(exc)))
        raise
    manifest = _manifest(experts, states, from_year, client, "complete")
    write_json(out / MANIFEST_FILE, manifest)
    return manifest


def _prepare(out: Path, resume: bool, from_year: int) -> dict | None:
    """Check that ``out`` is new, empty, or (with ``resume``) an expert-works folder of the
    same year; make it, drop a killed run's temporary files and the stale table. Returns
    the previous manifest, if any."""
    entries = list(out.iterdir()) if out.is_dir() else []
    manifest_path = out / MANIFEST_FILE
    previous = None
    if entries:
        if not resume:
            raise SelectionError(f"{out} is not empty; add --resume to continue the expert works in it, or choose a new --out")
        previous = read_json(manifest_path) if manifest_path.is_file() else None
        if previous is None or previous.get("command") != COMMAND:
            raise SelectionError(f"{out} holds other files than expert works; choose a new or empty --out")
        if previous.get("from_year") != from_year:
            raise SelectionError(
                f"{out} holds expert works since {previous.get('from_year')}; resume with --from-year "
                f"{previous.get('from_year')}, or choose a new --out"
            )
    elif out.exists() and not out.is_dir():
        raise SelectionError(f"{out} is a file; name a folder")
    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, out / STATE_FOLDER):
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink()
    (out / WORKS_FILE).unlink(missing_ok=True)
    return previous


def _manifest(experts: list[Expert], states: dict[str, dict], from_year: int, client: OpenAlexClient, status: str,
              error: str | None = None) -> dict:
    """The manifest: every expert with its status, the counts, the requests."""
    entries = []
    for expert in experts:
        entry = {"expert_id": expert.expert_id, "name": expert.name, "author_id": expert.author_id}
        state = states.get(expert.expert_id)
        if expert.author_id is None:
            entry.update(status="skipped", reason="no OpenAlex author id")
        elif state is None:
            entry.update(status="pending")
        else:
            entry.update(status="fetched", works=len(state["works"]), pages=state["pages"], requests=state["requests"])
        entries.append(entry)
    fetched = [states[expert.expert_id] for expert in experts if expert.expert_id in states]
    manifest = {
        "command": COMMAND,
        "status": status,
        "from_year": from_year,
        "base_url": client.base_url,
        "experts": entries,
        "counts": {
            "experts": len(experts),
            "fetched": len(fetched),
            "skipped": sum(entry["status"] == "skipped" for entry in entries),
            "pending": sum(entry["status"] == "pending" for entry in entries),
            "works": sum(len(state["works"]) for state in fetched),
            "distinct_works": len({work["work_id"] for state in fetched for work in state["works"]}),
        },
        "requests": {
            "made": sum(state["requests"] for state in fetched),
            "retries": sum(state["retries"] for state in fetched),
            "cost_usd": round(sum(state["cost_usd"] for state in fetched), 6),
            "this_session": client.stats.as_dict(),
        },
        "files": {"works": WORKS_FILE, "checkpoints": f"{STATE_FOLDER}/expert-*.json"},
    }
    if error:
        manifest["error"] = error
    return manifest


def register(subparsers) -> None:
    """``python -m selection expert-works``."""
    parser = subparsers.add_parser(
        COMMAND,
        help="fetch every expert's OpenAlex works since a year into expert_works.parquet (for conflicts)",
        description="Fetch the works of each expert of experts.csv published since --from-year, by OpenAlex "
        "author id, into --out/expert_works.parquet, with one checkpoint per expert (--resume skips the "
        "experts already fetched) and a manifest. Experts without an author id are listed as skipped.",
    )
    parser.add_argument("--experts", type=Path, required=True, help="experts.csv (expert_id,name,openalex_author_id,...)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--from-year", type=int, required=True, help="first publication year of the works fetched")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    add_connection_arguments(parser)
    parser.set_defaults(func=run_expert_works)


def run_expert_works(args: argparse.Namespace) -> int:
    """The ``expert-works`` subcommand."""
    experts = read_experts(args.experts)
    if args.from_year > dt.date.today().year:
        raise SelectionError(f"--from-year {args.from_year} is in the future; use {dt.date.today().year} or earlier")
    client = client_from_args(args)
    manifest = fetch_expert_works(client, experts, args.out, args.from_year, resume=args.resume)
    counts = manifest["counts"]
    print(
        f"{args.out / WORKS_FILE}: {counts['works']} works of {counts['fetched']} experts since {args.from_year} "
        f"({counts['skipped']} skipped without an OpenAlex author id), {manifest['requests']['made']} requests"
    )
    return 0
