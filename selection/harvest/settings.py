"""What decides which works a harvest returns and how it runs: the options, checked."""

from __future__ import annotations

from dataclasses import dataclass

BATCH_SIZE_MAX = 50  # ids in one OR filter (an OpenAlex limit)
DEFAULT_WORKERS = 16
DEFAULT_SPLIT_ABOVE = 10_000

# The top-level work fields the normaliser and the ranking read (OpenAlex cannot select
# nested fields).
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
)
WORK_TYPES = ("article", "review")


@dataclass(frozen=True)
class HarvestSettings:
    """Everything that decides which works a harvest returns and how it runs."""

    from_year: int
    to_year: int
    institutions_path: str
    batch_size: int = BATCH_SIZE_MAX
    split_above: int = DEFAULT_SPLIT_ABOVE
    workers: int = DEFAULT_WORKERS
    disciplines: tuple[str, ...] | None = None
    disciplines_path: str | None = None
    overrides_path: str | None = None

    def query_identity(self) -> dict:
        """The settings a resumed run must share with the run it continues."""
        return {
            "from_year": self.from_year,
            "to_year": self.to_year,
            "batch_size": self.batch_size,
            "split_above": self.split_above,
            "select": list(WORK_SELECT),
        }
