"""What decides which works a harvest returns and how it runs: the options, checked."""

from __future__ import annotations

from dataclasses import dataclass, fields

from selection.institutions import DEFAULT_MAX_AGE_DAYS

BATCH_SIZE_MAX = 50  # ids in one OR filter (an OpenAlex limit)
DEFAULT_WORKERS = 16
DEFAULT_SPLIT_ABOVE = 10_000

# The top-level work fields the normaliser and the ranking read (OpenAlex cannot select
# nested fields). "funders" replaced "grants" in the 2025 API; the normaliser still reads
# "grants" (and "awards") from older raw pages and snapshots.
WORK_SELECT = (
    "id",
    "doi",
    "title",
    "publication_year",
    "publication_date",
    "type",
    "language",
    "primary_location",
    "authorships",
    "cited_by_count",
    "counts_by_year",
    "fwci",
    "citation_normalized_percentile",
    "referenced_works_count",
    "is_retracted",
    "abstract_inverted_index",
    "primary_topic",
    "topics",
    "keywords",
    "funders",
    "best_oa_location",
    "open_access",
)
WORK_TYPES = ("article", "review")


@dataclass(frozen=True)
class HarvestSettings:
    """Everything that decides which works a harvest returns and how it runs."""

    from_year: int
    to_year: int
    institutions_path: str | None = None  # None: build the list from the server harvested
    institutions_max_age_days: int = DEFAULT_MAX_AGE_DAYS  # how long a list built so is reused
    batch_size: int = BATCH_SIZE_MAX
    split_above: int = DEFAULT_SPLIT_ABOVE
    workers: int = DEFAULT_WORKERS
    disciplines: tuple[str, ...] | None = None
    disciplines_path: str | None = None
    overrides_path: str | None = None

    @classmethod
    def from_manifest(cls, saved: dict) -> HarvestSettings:
        """The settings a harvest manifest recorded (``manifest["settings"]``), keys this
        version does not know left out, missing ones at their defaults."""
        known = {field.name for field in fields(cls)}
        values = {name: value for name, value in saved.items() if name in known}
        if values.get("disciplines") is not None:
            values["disciplines"] = tuple(values["disciplines"])
        return cls(**values)

    def years(self) -> range:
        """The publication years of the window."""
        return range(self.from_year, self.to_year + 1)

    def query_identity(self) -> dict:
        """The settings a resumed run must share with the run it continues."""
        return {
            "from_year": self.from_year,
            "to_year": self.to_year,
            "batch_size": self.batch_size,
            "split_above": self.split_above,
            "select": list(WORK_SELECT),
        }
