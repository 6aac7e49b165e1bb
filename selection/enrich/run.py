"""One enrichment session: the inputs, the three phases in order, the files and the manifest.

Every phase runs in every session it is asked for: its tasks already in the page logs
cost nothing, the others are fetched until the budget ends, and its file is written from
what the logs hold (``topic_growth.parquet`` only once every year is complete, since a
growth rate needs all of them). So a run stopped by the budget and resumed until complete
writes the same files as one run without a budget.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selection.enrich.citing import citing_frame, citing_job, read_contention
from selection.enrich.folder import EnrichDir, write_table
from selection.enrich.national import china_journals, histogram_tasks, national_frame, national_plan, screen_tasks
from selection.enrich.queries import Budget, BudgetSpent, GroupedTask, TaskLog, run_grouped, run_jobs
from selection.enrich.topics import topic_growth_frame, topic_tasks
from selection.errors import SelectionError
from selection.files import file_sha256, write_json
from selection.openalex.client import OpenAlexClient

MANIFEST_VERSION = 1
PHASES = ("topics", "national", "citing")
DEFAULT_WORKERS = 4
NATIONAL_JOURNALS = ("harvest", "china")
WORK_COLUMNS = ("work_id", "publication_year", "type", "journal_group", "source_id", "subfield_id")


@dataclass(frozen=True)
class EnrichSettings:
    """What one session is asked to do."""

    works_path: str
    contention_path: str | None = None
    budget: int | None = None  # requests this session may make; None: no limit
    workers: int = DEFAULT_WORKERS
    phases: tuple[str, ...] = PHASES
    national_journals: str = "harvest"  # NATIONAL_JOURNALS: the harvest's domestic journals, or all of China's


def read_works(path: str | Path) -> pd.DataFrame:
    """The columns of a ``works.parquet`` the enrichment reads; SelectionError naming the fix."""
    path = Path(path)
    if not path.is_file():
        raise SelectionError(f"{path} does not exist; pass --works HARVEST/works.parquet")
    try:
        names = pq.read_schema(path).names
    except (OSError, pa.ArrowException) as exc:
        raise SelectionError(f"{path} is not a readable Parquet file ({exc}); pass the works.parquet of a harvest") from None
    missing = [name for name in WORK_COLUMNS if name not in names]
    if missing:
        raise SelectionError(f"{path} lacks the columns {', '.join(missing)}; pass the works.parquet of a harvest")
    return pq.read_table(path, columns=list(WORK_COLUMNS)).to_pandas()


def enrich(client: OpenAlexClient, settings: EnrichSettings, out_dir: str | Path, resume: bool = False) -> dict:
    """Run (or resume) an enrichment into ``out_dir``; returns the manifest."""
    unknown = [phase for phase in settings.phases if phase not in PHASES]
    if unknown:
        raise SelectionError(f"unknown phase {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    works = read_works(settings.works_path)
    contention = read_contention(settings.contention_path) if settings.contention_path else None
    out = EnrichDir(Path(out_dir))
    previous = out.prepare(resume)
    if previous and previous.get("base_url") not in (None, client.base_url):
        raise SelectionError(
            f"{out.root} was enriched from {previous['base_url']}; resume with that --base-url or choose a new --out"
        )
    clock = time.monotonic()
    budget = Budget(client, settings.budget)
    manifest = {
        "version": MANIFEST_VERSION,
        "status": "running",
        "base_url": client.base_url,
        "works": {"path": str(settings.works_path), "sha256": file_sha256(settings.works_path), "rows": len(works)},
        "contention": None if contention is None else {"path": str(settings.contention_path), "works": len(contention)},
        "settings": {**asdict(settings), "phases": list(settings.phases)},
        "phases": dict(previous.get("phases") or {}),
        "sessions": [*(previous.get("sessions") or []), {"started_at": _now(), "budget": settings.budget}],
    }
    write_json(out.manifest, manifest)
    runners = {
        "topics": lambda: _topics(client, works, out, budget, settings.workers),
        "national": lambda: _national(client, works, out, budget, settings),
        "citing": lambda: _citing(client, contention, out, budget, settings.workers),
    }
    ran: list[str] = []
    try:
        for phase in PHASES:
            if phase not in settings.phases or (phase == "citing" and contention is None):
                manifest["phases"].setdefault(phase, {"done": False, "requests": 0, "note": _not_run_note(phase)})
                continue
            before, record = client.stats.requests, None
            try:
                record = runners[phase]()
            finally:
                # Counted also when the phase fails: its pages so far are in its log.
                _count_phase(manifest, phase, record, client.stats.requests - before)
            ran.append(phase)
            write_json(out.manifest, manifest)
    except KeyboardInterrupt:
        _close(out, manifest, client, budget, clock, "interrupted", "interrupted; run again with --resume")
        raise
    except SelectionError as exc:
        _close(out, manifest, client, budget, clock, "failed", str(exc))
        raise
    if all(manifest["phases"][phase]["done"] for phase in ran):
        _close(out, manifest, client, budget, clock, "complete", None)
    elif budget.spent:
        _close(out, manifest, client, budget, clock, "budget_spent",
               "the request budget is spent; run again with --resume (and a --budget) to continue")
    else:
        _close(out, manifest, client, budget, clock, "incomplete", "some tasks did not finish; run again with --resume")
    return manifest


def _count_phase(manifest: dict, phase: str, record: dict | None, spent: int) -> None:
    """Add a phase's requests of this session to its manifest record (``record`` replaces
    the rest of it when the phase ran to its end)."""
    entry = dict(manifest["phases"].get(phase) or {"done": False})
    earlier = int(entry.get("requests") or 0)
    if record is not None:
        entry = dict(record)
    entry.update({"requests": earlier + spent, "requests_this_session": spent})
    manifest["phases"][phase] = entry
    manifest["sessions"][-1].setdefault("requests_by_phase", {})[phase] = spent


def _not_run_note(phase: str) -> str:
    if phase == "citing":
        return "not run: give --contention FILE (the ranking's contention.txt)"
    return "not run: not among --phases"


def _example(client: OpenAlexClient, tasks: list[GroupedTask]) -> str | None:
    return tasks[0].build(client).group_by(tasks[0].group_by).url if tasks else None


def _run_tasks(client: OpenAlexClient, tasks: list[GroupedTask], log: TaskLog, budget: Budget, workers: int) -> None:
    run_jobs([lambda task=task: run_grouped(client, task, log, budget) for task in tasks], budget, workers)


def _topics(client: OpenAlexClient, works: pd.DataFrame, out: EnrichDir, budget: Budget, workers: int) -> dict:
    years_present = works["publication_year"].dropna()
    years = list(range(int(years_present.min()), int(years_present.max()) + 1)) if len(years_present) else []
    log = TaskLog(out.log("topics"))
    tasks = topic_tasks(years)
    _run_tasks(client, tasks, log, budget, workers)
    skipped = [year for year in years if not log.state(f"topics/{year}").done]
    path = out.table("topic_growth")
    rows = None
    if skipped:
        path.unlink(missing_ok=True)  # a growth rate needs every year; a stale file must not stay
    else:
        rows = write_table(topic_growth_frame(years, log), "topic_growth", path)
    return {"done": not skipped, "years": years, "skipped_years": skipped, "rows": rows,
            "file": path.name if rows is not None else None, "query": _example(client, tasks)}


def _national(client: OpenAlexClient, works: pd.DataFrame, out: EnrichDir, budget: Budget,
              settings: EnrichSettings) -> dict:
    workers, more = settings.workers, []
    if settings.national_journals == "china":
        try:
            more = china_journals(client, out.state / "china_journals.txt", budget)
        except BudgetSpent:
            return {"done": False, "journals_scope": "china", "note": "the budget ran out while listing China's journals"}
    plan = national_plan(works, more)
    log = TaskLog(out.log("national"))
    screens = screen_tasks(plan)
    _run_tasks(client, screens, log, budget, workers)
    histograms, _ = histogram_tasks(plan, log)
    _run_tasks(client, histograms, log, budget, workers)
    frame, skipped = national_frame(plan, log)
    path = out.table("national_baseline")
    rows = write_table(frame, "national_baseline", path)
    return {"done": not skipped, **plan.describe(), "journals_scope": settings.national_journals,
            "china_journals": len(more) if settings.national_journals == "china" else None, "pairs_done": len(plan.pairs) - len(skipped),
            "skipped_pairs": [list(pair) for pair in skipped], "screening_tasks": len(screens),
            "histogram_tasks": len(histograms), "rows": rows, "file": path.name,
            "query": _example(client, histograms or screens)}


def _citing(client: OpenAlexClient, work_ids: list[str], out: EnrichDir, budget: Budget, workers: int) -> dict:
    log = TaskLog(out.log("citing"))
    run_jobs([citing_job(client, work_id, log, budget) for work_id in work_ids], budget, workers)
    frame, skipped = citing_frame(work_ids, log)
    path = out.table("citing")
    rows = write_table(frame, "citing", path)
    return {"done": not skipped, "works": len(work_ids), "fetched": len(work_ids) - len(skipped),
            "skipped_works": skipped, "rows": rows, "file": path.name}


def _close(out: EnrichDir, manifest: dict, client: OpenAlexClient, budget: Budget, clock: float, status: str,
           note: str | None) -> None:
    """Record the session's end and the run's status in the manifest."""
    manifest["sessions"][-1].update(
        {"seconds": round(time.monotonic() - clock, 3), "status": status, "requests": budget.used(),
         "retries": client.stats.retries}
    )
    manifest["status"] = status
    manifest["budget"] = {"limit": budget.limit, "used": budget.used(), "spent": budget.spent}
    manifest["requests"] = {
        "total": sum(int(record.get("requests") or 0) for record in manifest["phases"].values()),
        "this_session": client.stats.as_dict(),
    }
    if note:
        manifest["note"] = note
    else:
        manifest.pop("note", None)
    if status == "complete":
        manifest["finished_at"] = _now()
    write_json(out.manifest, manifest)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
