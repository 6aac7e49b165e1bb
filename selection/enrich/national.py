"""Phase 2, the domestic track's national line: citation-count histograms of the articles and
reviews in China-published journals, per subfield and year.

OpenAlex cannot filter works by their source's country (no such filter in its OpenAPI), so
the journals are named: the sources of the harvest's domestic works, at most 100 ids in one
OR filter (``primary_location.source.id``). For each subfield x year of the harvest's
domestic works the histogram is ``group_by=cited_by_count`` over all works of those journals
of that subfield and year, whoever wrote them, summed over the chunks of journals. With more
than one chunk, one ``group_by=primary_topic.subfield.id`` a year and chunk first says which
chunks hold works of which subfields, so that empty chunk x subfield cells cost nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from selection.enrich.queries import Budget, GroupedTask, TaskLog
from selection.enrich.topics import world_works
from selection.files import write_atomic
from selection.openalex.client import PER_PAGE_MAX
from selection.schema import short_id

CHUNK_SIZE = 100  # ids in one OR filter


@dataclass(frozen=True)
class NationalPlan:
    """The journals (in chunks, each with a name made of its ids) and the subfield x year pairs."""

    chunks: tuple[tuple[str, tuple[str, ...]], ...]
    pairs: tuple[tuple[int, int], ...]

    @property
    def years(self) -> list[int]:
        """The years of the pairs."""
        return sorted({year for _, year in self.pairs})

    def describe(self) -> dict:
        """The manifest's record of the plan."""
        return {"journals": sum(len(ids) for _, ids in self.chunks), "chunks": len(self.chunks), "pairs": len(self.pairs)}


def national_plan(works: pd.DataFrame, more_journals: Iterable[str] = ()) -> NationalPlan:
    """The plan for the domestic articles and reviews of a works table (``journal_group``,
    ``source_id``, ``subfield_id``, ``publication_year``, ``type``): their journals and
    ``more_journals`` (source ids, such as every journal OpenAlex places in China)."""
    domestic = works[(works["journal_group"] == "domestic") & works["type"].isin(["article", "review"])]
    journals = sorted(set(domestic["source_id"].dropna()) | set(more_journals), key=_id_order)
    chunks = tuple(
        (_chunk_name(journals[i : i + CHUNK_SIZE]), tuple(journals[i : i + CHUNK_SIZE]))
        for i in range(0, len(journals), CHUNK_SIZE)
    )
    located = domestic.dropna(subset=["subfield_id", "publication_year", "source_id"])
    pairs = sorted({(int(s), int(y)) for s, y in zip(located["subfield_id"], located["publication_year"], strict=True)})
    return NationalPlan(chunks, tuple(pairs))


def china_journals(client, path: Path, budget: Budget) -> list[str] | None:
    """The source ids of every journal OpenAlex places in China (``sources`` with
    ``country_code:CN, type:journal``, a few pages of 200 ids), kept in ``path`` once
    complete so that a resumed run asks again for none; None when the budget ran out first
    (``BudgetSpent`` from ``budget.take``, caught by the caller)."""
    if path.is_file():
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    query = client.sources().filter(country_code="CN", type="journal").select(["id"])
    ids: list[str] = []
    pages = query.paginate(per_page=PER_PAGE_MAX, n_max=None)
    while True:
        budget.take()
        page = next(pages, None)
        if not page:
            break
        ids.extend(short_id(record["id"]) for record in page)
    ids = sorted(set(ids), key=_id_order)
    write_atomic(path, ("\n".join(ids) + "\n").encode("utf-8"))
    return ids


def _id_order(source_id: str) -> tuple[int, str]:
    digits = source_id[1:]
    return (int(digits), source_id) if digits.isdigit() else (0, source_id)


def _chunk_name(ids: list[str]) -> str:
    return "c" + hashlib.sha1("|".join(ids).encode()).hexdigest()[:12]


def _in_chunk(ids: tuple[str, ...]) -> dict:
    return {"primary_location.source.id": list(ids)}


def screen_tasks(plan: NationalPlan) -> list[GroupedTask]:
    """Subfield counts per year and chunk (only worth asking with more than one chunk)."""
    if len(plan.chunks) < 2:
        return []
    return [
        GroupedTask(
            f"screen/{year}/{name}",
            "primary_topic.subfield.id",
            lambda client, year=year, ids=ids: world_works(client, _in_chunk(ids), publication_year=year),
        )
        for year in plan.years
        for name, ids in plan.chunks
    ]


def histogram_tasks(plan: NationalPlan, log: TaskLog) -> tuple[list[GroupedTask], list[tuple[int, int]]]:
    """The histogram tasks of the pairs whose year is screened, and the pairs not yet
    plannable (a screening task of their year unfinished)."""
    screened = {task.key: log.state(task.key) for task in screen_tasks(plan)}
    tasks, unplanned = [], []
    for subfield, year in plan.pairs:
        cells = []
        for name, ids in plan.chunks:
            if screened:
                state = screened[f"screen/{year}/{name}"]
                if not state.done:
                    unplanned.append((subfield, year))
                    cells = None
                    break
                if not state.groups.get(str(subfield)):
                    continue
            cells.append((name, ids))
        for name, ids in cells or []:
            tasks.append(
                GroupedTask(
                    f"hist/{subfield}/{year}/{name}",
                    "cited_by_count",
                    lambda client, s=subfield, y=year, ids=ids: world_works(
                        client, _in_chunk(ids), publication_year=y, primary_topic={"subfield": {"id": s}}
                    ),
                )
            )
    return tasks, unplanned


def national_frame(plan: NationalPlan, log: TaskLog) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """``subfield_id, publication_year, cited_by_count, works`` of the finished pairs (summed
    over the chunks), sorted; and the pairs not finished."""
    tasks, unfinished = histogram_tasks(plan, log)
    by_pair: dict[tuple[int, int], list] = {}
    for task in tasks:
        _, subfield, year, _ = task.key.split("/")
        by_pair.setdefault((int(subfield), int(year)), []).append(log.state(task.key))
    rows = []
    for pair in plan.pairs:
        if pair in unfinished:
            continue
        states = by_pair.get(pair, [])
        if not all(state.done for state in states):
            unfinished.append(pair)
            continue
        histogram: dict[int, int] = {}
        for state in states:
            for citations, count in state.groups.items():
                histogram[int(citations)] = histogram.get(int(citations), 0) + count
        rows += [(pair[0], pair[1], citations, count) for citations, count in histogram.items()]
    frame = pd.DataFrame(rows, columns=["subfield_id", "publication_year", "cited_by_count", "works"])
    return frame.sort_values(["subfield_id", "publication_year", "cited_by_count"], ignore_index=True), sorted(unfinished)
