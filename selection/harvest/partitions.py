"""The cursor chains of a harvest: one per year and institution batch, split into
publication-date ranges when large, each with its checkpoint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from selection.harvest.settings import WORK_SELECT, WORK_TYPES
from selection.openalex.client import OpenAlexClient


@dataclass(frozen=True)
class Partition:
    """One cursor chain: a year, an institution batch and a publication-date range."""

    year: int
    batch: int
    date_from: str  # ISO dates, inclusive
    date_to: str

    @property
    def key(self) -> str:
        """A file-name-safe, sortable name, e.g. ``y2021-b003-20210101-20211231``."""
        return f"y{self.year}-b{self.batch:03d}-{self.date_from.replace('-', '')}-{self.date_to.replace('-', '')}"

    def days(self) -> int:
        """How many days the date range covers."""
        return (dt.date.fromisoformat(self.date_to) - dt.date.fromisoformat(self.date_from)).days + 1

    def split(self, parts: int) -> list[Partition]:
        """Cut the date range into ``parts`` (at most one a day) contiguous ranges."""
        start = dt.date.fromisoformat(self.date_from)
        days = self.days()
        parts = max(1, min(parts, days))
        bounds = [start + dt.timedelta(days=round(i * days / parts)) for i in range(parts + 1)]
        return [
            Partition(self.year, self.batch, bounds[i].isoformat(), (bounds[i + 1] - dt.timedelta(days=1)).isoformat())
            for i in range(parts)
        ]


@dataclass
class PartitionState:
    """A partition's checkpoint: where its cursor chain stands and what it cost."""

    key: str
    partition: dict
    status: str = "pending"  # pending | running | split | done
    cursor: str | None = "*"
    pages: int = 0
    works: int = 0
    count: int | None = None
    children: list[str] = field(default_factory=list)
    source_ids: list[str] = field(default_factory=list)  # of the works on its pages
    requests: int = 0
    retries: int = 0
    cost_usd: float = 0.0

    def charge(self, page) -> None:
        """Add one fetched page's attempts and reported credits."""
        self.requests += page.attempts
        self.retries += page.attempts - 1
        self.cost_usd += float(page.meta.get("cost_usd") or 0.0)


def institution_batches(institution_ids, batch_size: int) -> list[list[str]]:
    """The ids in numeric order, cut into OR batches of at most ``batch_size``."""
    ordered = sorted(institution_ids, key=lambda i: int(i[1:]))
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def works_query(client: OpenAlexClient, institution_ids: list[str], partition: Partition):
    """The pyalex query of one partition (institution OR batch, year, dates, rules)."""
    # filter_or first: a later filter() merges into its OR group (scalars are unaffected),
    # whereas a list handed to filter() alone would mean AND.
    return (
        client.works()
        .filter_or(**{"authorships.institutions.id": list(institution_ids), "type": list(WORK_TYPES)})
        .filter(
            publication_year=partition.year,
            from_publication_date=partition.date_from,
            to_publication_date=partition.date_to,
            primary_location={"source": {"type": "journal", "has_issn": True}},
            is_retracted=False,
            is_paratext=False,
        )
        .select(list(WORK_SELECT))
    )
