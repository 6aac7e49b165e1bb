"""One harvest session: the output folder, the manifest, planning, fetching, finalising."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict
from pathlib import Path

from selection.errors import SelectionError
from selection.files import write_json
from selection.harvest.finalise import finalise
from selection.harvest.folder import HarvestDir, prepare_output
from selection.harvest.partitions import Partition, works_query
from selection.harvest.scheduler import Harvester, HarvestProgress
from selection.harvest.settings import WORK_SELECT, HarvestSettings
from selection.institutions import (
    InstitutionEntry,
    InstitutionList,
    list_from_file,
    list_from_server,
    load_institution_list,
    write_institution_list,
)
from selection.openalex.client import PER_PAGE_MAX, OpenAlexClient

MANIFEST_VERSION = 2  # 2: the institution list's record, settings.institutions_max_age_days


def harvest(client: OpenAlexClient, settings: HarvestSettings, out_dir: Path, resume: bool = False, quiet: bool = False,
            on_progress=None, should_stop=None) -> dict:
    """Run (or resume) a harvest into ``out_dir``; returns the final manifest.

    ``on_progress`` (optional) receives each ``HarvestProgress`` report, the first as soon
    as every chain's first page (its ``meta.count``) is in; the manifest's ``progress``
    holds the latest one. ``should_stop()`` (optional, asked twice a second while pages are
    fetched) stops the run as Ctrl-C does: recorded interrupted, ``HarvestStopped`` raised.

    The Beijing institution list is ``settings.institutions_path`` when given, else built
    from the server at the start (``selection.institutions.list_from_server``); a resumed
    run without a file takes the list the run it continues used (``state/institutions.csv``).
    """
    out = HarvestDir(out_dir)
    # A list file is checked before anything is written; a list from the server is built
    # once the manifest exists, so that a failure is recorded there.
    from_file = list_from_file(settings.institutions_path) if settings.institutions_path else None
    prepare_output(out, resume)
    clock = time.monotonic()
    previous = out.read_manifest() or {}
    manifest = {
        "version": MANIFEST_VERSION,
        "status": "running",
        "settings": {**asdict(settings), "base_url": client.base_url, "rate": client.limiter.rate},
        "sessions": previous.get("sessions", []) + [{"started_at": _now()}],
    }
    write_json(out.manifest, manifest)
    harvester = Harvester(client, settings, out, quiet=quiet)
    try:
        institutions, manifest["institutions"] = _institution_list(client, settings, out, previous, resume, from_file)
        harvester.plan(list(institutions), resume)
        manifest["query"] = query_description(harvester)

        def report(progress: HarvestProgress) -> None:
            manifest["progress"] = progress.as_dict()
            _close_session(out, manifest, client, clock, "running")
            if on_progress is not None:
                on_progress(progress)

        harvester.run(on_progress=report, should_stop=should_stop)
        fetched = time.monotonic()
        counts = finalise(client, out, settings, set(institutions))
        manifest["sessions"][-1]["fetch_seconds"] = round(fetched - clock, 3)
        manifest["sessions"][-1]["finalise_seconds"] = round(time.monotonic() - fetched, 3)
    except KeyboardInterrupt:
        _close_session(out, manifest, client, clock, "interrupted", "interrupted; run again with --resume")
        raise
    except SelectionError as exc:
        # The messages say what to fix, and "--resume" where waiting is the fix.
        _close_session(out, manifest, client, clock, "failed", str(exc))
        raise
    partitions = harvester.partition_summary()
    manifest["counts"] = counts
    manifest["partitions"] = partitions
    manifest["requests"] = {
        "made": partitions["requests"] + counts["source_lookups"]["requests"],
        "retries": partitions["retries"],
        "this_session": client.stats.as_dict(),
        "rate_limiter": client.limiter.describe(),
    }
    manifest["credits"] = {
        "cost_usd": round(partitions["cost_usd"] + counts["source_lookups"]["cost_usd"], 6),
        "rate_limit_headers": client.stats.as_dict()["rate_limit_headers"],
    }
    manifest["files"] = {"works": out.works.name, "raw_pages": f"raw/*.jsonl.gz ({partitions['pages']} files)"}
    _close_session(out, manifest, client, clock, "complete")
    return manifest


def _institution_list(
    client: OpenAlexClient, settings: HarvestSettings, out: HarvestDir, previous: dict, resume: bool,
    from_file: InstitutionList | None,
) -> tuple[dict[str, InstitutionEntry], dict]:
    """The Beijing institutions of this run and the manifest's record of their list.

    A resumed run without a list file continues with the copy the run before it kept
    (``state/institutions.csv``) and its record; otherwise the file, or the list built from
    the server, is copied there.
    """
    record = previous.get("institutions")
    if resume and from_file is None and record is not None and out.institutions.exists():
        return load_institution_list(out.institutions), record
    listing = from_file or list_from_server(client, settings.institutions_max_age_days)
    write_institution_list(listing.entries, out.institutions)
    return listing.entries, {**listing.describe(), "copy": str(out.institutions.relative_to(out.root))}


def query_description(harvester: Harvester) -> dict:
    """The works query in words, with the URL of the first batch's first partition."""
    settings = harvester.settings
    year = settings.from_year
    example = works_query(harvester.client, harvester.batches[0] if harvester.batches else [],
                          Partition(year, 0, f"{year}-01-01", f"{year}-12-31"))
    return {
        "endpoint": "/works",
        "rules": "an author at a listed Beijing institution (exact ids, no lineage), publication year in the "
        "window, type article or review, primary source a journal with an ISSN, not retracted, not paratext",
        "institution_batches": len(harvester.batches),
        "first_partition_url": example.url,
        "select": list(WORK_SELECT),
        "per_page": PER_PAGE_MAX,
        "paging": "cursor; partitions of year x institution batch, split by publication date above split_above, "
        "and cut up front into date ranges when fewer than the workers",
    }


def _close_session(out: HarvestDir, manifest: dict, client: OpenAlexClient, clock: float, status: str,
                   error: str | None = None) -> None:
    """Record this session's time and requests and the run's status in the manifest."""
    manifest["sessions"][-1].update(
        {
            "seconds": round(time.monotonic() - clock, 3),
            "status": status,
            "requests": client.stats.requests,
            "retries": client.stats.retries,
        }
    )
    manifest["status"] = status
    manifest["duration_seconds"] = round(sum(s.get("seconds", 0.0) for s in manifest["sessions"]), 3)
    if error:
        manifest["error"] = error
    else:
        manifest.pop("error", None)
    if status == "complete":
        manifest["finished_at"] = _now()
    write_json(out.manifest, manifest)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
