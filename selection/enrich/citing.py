"""Phase 3, influence from who cites: per work in contention, its citing works, those with no
author in China and the citing countries.

Per work one ``filter=cites:W&group_by=authorships.countries`` (``meta.count`` is the number
of citing works, the groups their authors' countries) and, only when some but not all
citing works have an author in China, one count of ``cites:W,authorships.countries:!cn``.
A citing work without any country counts as one without an author in China.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from selection.enrich.queries import Budget, CountTask, GroupedTask, TaskLog, run_count, run_grouped
from selection.errors import SelectionError
from selection.schema import short_id

CHINA = "CN"


def read_contention(path: str | Path) -> list[str]:
    """Work ids of a contention file (one a line, short or full; blank lines and ``#``
    comments skipped), each once, in file order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SelectionError(f"cannot read the contention file {path} ({exc.strerror}); pass --contention FILE") from None
    ids: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        work_id = short_id(value)
        if not (work_id.startswith("W") and work_id[1:].isdigit()):
            raise SelectionError(f"{path}:{number}: {value!r} is not an OpenAlex work id (W123...); one id a line")
        ids[work_id] = None
    return list(ids)


def countries_task(work_id: str) -> GroupedTask:
    """The citing works of ``work_id`` grouped by their authors' countries."""
    return GroupedTask(f"{work_id}/countries", "authorships.countries", lambda client: client.works().filter(cites=work_id))


def no_china_task(work_id: str) -> CountTask:
    """The citing works of ``work_id`` without an author in China."""
    return CountTask(
        f"{work_id}/no_china",
        lambda client: client.works().filter(cites=work_id).filter_not(**{"authorships.countries": CHINA.lower()}),
    )


def citing_job(client, work_id: str, log: TaskLog, budget: Budget):
    """The job fetching one work's citing side (what the log lacks of it)."""

    def job() -> None:
        countries = run_grouped(client, countries_task(work_id), log, budget)
        if _no_china_from_groups(countries.count, countries.groups) is None:
            run_count(client, no_china_task(work_id), log, budget)

    return job


def _no_china_from_groups(citing: int, groups: dict[str, int]) -> int | None:
    """The works without an author in China when the groups alone tell (none or all of the
    citing works have one), else None."""
    in_china = groups.get(CHINA, 0)
    if in_china == 0:
        return citing
    if in_china >= citing:
        return 0
    return None


def citing_row(work_id: str, log: TaskLog) -> tuple:
    """``(work_id, citing_works, citing_no_china_works, citing_countries)``; Nones while unfetched."""
    countries = log.state(f"{work_id}/countries")
    if not countries.done:
        return work_id, None, None, None
    citing = countries.count or 0
    no_china = _no_china_from_groups(citing, countries.groups)
    if no_china is None:
        count = log.state(f"{work_id}/no_china")
        if not count.done:
            return work_id, None, None, None
        no_china = count.count
    return work_id, citing, no_china, sum(1 for key in countries.groups if key.lower() != "unknown")


def citing_frame(work_ids: list[str], log: TaskLog) -> tuple[pd.DataFrame, list[str]]:
    """One row per work (sorted by id; nulls where not fetched) and the ids not fetched."""
    rows = [citing_row(work_id, log) for work_id in sorted(work_ids)]
    frame = pd.DataFrame(rows, columns=["work_id", "citing_works", "citing_no_china_works", "citing_countries"])
    for column in ("citing_works", "citing_no_china_works", "citing_countries"):
        frame[column] = frame[column].astype("Int32")
    return frame, [row[0] for row in rows if row[1] is None]
