"""``python -m selection renormalise DIR``: rebuild ``works.parquet`` of a complete harvest
from the raw pages it kept, with today's normaliser and works schema.

When the works schema grows (``authorships`` came with schema version 2; the world flags,
all topics, keywords, funders and the per-authorship Beijing attribution with version 3)
or the normaliser changes, a harvest made before needs no new requests: its raw pages
(``raw/*.jsonl.gz``) hold the whole records. The Beijing institution ids come from the
harvest's plan, the source countries from its cache, the window, disciplines and override
table from its manifest, the umbrella institutions from today's packaged list, so the table
is the one a fresh harvest of the same records would write. Fields the harvest did not
select (a harvest before version 3 asked for no ``topics``, ``keywords``, ``funders`` or
open-access locations) stay empty: the primary topic stands alone, the others are empty. ``works.parquet`` is replaced atomically (a failure leaves the old one) and
the manifest records when the folder was renormalised and the checksums before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from selection.errors import SelectionError
from selection.files import file_sha256, read_json, write_json
from selection.harvest.finalise import works_from_raw_pages, write_works
from selection.harvest.folder import HarvestDir, leaf_states
from selection.harvest.settings import HarvestSettings
from selection.institutions import load_umbrella_institutions
from selection.schema import WORKS_SCHEMA_VERSION


def renormalise(folder: str | Path) -> dict:
    """Rebuild ``folder/works.parquet`` from its raw pages; returns the updated manifest.

    SelectionError naming the fix when ``folder`` is not a complete harvest or lacks its
    raw pages, plan or source-country cache.
    """
    out = HarvestDir(Path(folder))
    manifest = _complete_harvest_manifest(out)
    for needed in (out.plan, out.sources):
        if not needed.is_file():
            raise SelectionError(
                f"{out.root} lacks {needed.relative_to(out.root)}, which renormalise needs; harvest again into a new folder"
            )
    plan = _read_state(out.plan)
    countries = _read_state(out.sources)["countries"]
    settings = HarvestSettings.from_manifest(manifest["settings"])
    leaves = leaf_states(out.load_states(settings.years(), len(plan["batches"])))
    unfinished = [state.key for state in leaves if state.status != "done"]
    if unfinished:
        raise SelectionError(f"{out.root}: partition {unfinished[0]} is not finished; finish it with harvest --resume")
    pages = sum(state.pages for state in leaves)
    if pages == 0 or not any(out.raw.glob("*.jsonl.gz")):
        raise SelectionError(f"{out.root} has no raw pages (raw/*.jsonl.gz) to rebuild from; harvest again")
    previous_sha256 = file_sha256(out.works) if out.works.exists() else None
    table, counts = works_from_raw_pages(out, leaves, settings, set(plan["identity"]["institution_ids"]), countries)
    write_works(table, out.works)
    manifest["counts"] = {**manifest.get("counts", {}), **counts}
    manifest["renormalised"] = [
        *manifest.get("renormalised", []),
        {
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "raw_pages": pages,
            "works": table.num_rows,
            "works_schema_version": WORKS_SCHEMA_VERSION,
            "umbrella_institutions": len(load_umbrella_institutions()),
            "previous_works_sha256": previous_sha256,
            "works_sha256": file_sha256(out.works),
        },
    ]
    write_json(out.manifest, manifest)
    return manifest


def _read_state(path: Path) -> dict:
    """A state file of the harvest, or SelectionError naming it when it is damaged."""
    try:
        return read_json(path)
    except ValueError as exc:
        raise SelectionError(f"{path} is damaged ({exc}); harvest again into a new folder") from None


def _complete_harvest_manifest(out: HarvestDir) -> dict:
    """The manifest of a complete harvest in ``out``, or SelectionError saying what the folder is."""
    if not out.root.is_dir():
        raise SelectionError(f"{out.root} is not a folder; give the --out folder of a harvest")
    try:
        manifest = out.read_manifest()
    except ValueError as exc:
        raise SelectionError(f"{out.manifest} is not JSON ({exc}); give the --out folder of a harvest") from None
    if manifest is None:
        raise SelectionError(f"{out.root} holds no manifest.json, so it is not a harvest folder; give the --out of a harvest")
    if manifest.get("command") == "import-snapshot":
        raise SelectionError(f"{out.root} holds a snapshot import, which keeps no raw pages; run import-snapshot again")
    status = manifest.get("status")
    if status != "complete":
        raise SelectionError(
            f"{out.root} holds a harvest that is not complete (status {status}); finish it with harvest --resume"
        )
    return manifest


def register(subparsers) -> None:
    """``python -m selection renormalise``."""
    parser = subparsers.add_parser(
        "renormalise",
        help="rebuild works.parquet of a complete harvest from its raw pages (no requests)",
        description="Rebuild works.parquet of a complete harvest folder from the raw pages it kept, with this "
        "version's normaliser and works schema; no request is made. The manifest records when.",
    )
    parser.add_argument("folder", type=Path, metavar="DIR", help="the --out folder of a complete harvest")
    parser.set_defaults(func=run_renormalise)


def run_renormalise(args: argparse.Namespace) -> int:
    """The ``renormalise`` subcommand."""
    manifest = renormalise(args.folder)
    done = manifest["renormalised"][-1]
    print(
        f"{args.folder / 'works.parquet'}: {done['works']} works rebuilt from {done['raw_pages']} raw pages "
        f"(works schema version {done['works_schema_version']})"
    )
    return 0
