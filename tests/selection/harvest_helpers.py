"""Harvests of the mock server for the tests: settings, a quick run, the expected works."""

from __future__ import annotations

from pathlib import Path

from selection.harvest.run import harvest
from selection.harvest.settings import HarvestSettings
from selection.openalex.client import OpenAlexClient, RetryPolicy
from selection.schema import short_id

FROM_YEAR, TO_YEAR = 2021, 2025
FAST_RETRY = RetryPolicy(max_retries=10, backoff=0.01, backoff_cap=0.05)


def harvest_settings(inputs, **overrides) -> HarvestSettings:
    """Small batches and a low split threshold, so that batches overlap and ranges split."""
    values = dict(
        from_year=FROM_YEAR,
        to_year=TO_YEAR,
        institutions_path=str(inputs.institutions),
        overrides_path=str(inputs.overrides),
        batch_size=6,
        split_above=200,
        workers=6,
    )
    values.update(overrides)
    return HarvestSettings(**values)


def run(server, inputs, out: Path, **overrides) -> dict:
    """Harvest the mock server into ``out`` fast (high rate, quick retries); the manifest."""
    client = OpenAlexClient(server.url, rate=1000, retry=FAST_RETRY)
    return harvest(client, harvest_settings(inputs, **overrides), out, quiet=True)


def eligible_ids(mock_data, beijing_ids: set[str]) -> set[str]:
    """The rules, written out again here, independent of the harvest and the server."""
    kept = set()
    for work in mock_data.works.records:
        location = work.get("primary_location") or {}
        source = location.get("source") or {}
        institution_ids = {
            short_id(institution["id"])
            for authorship in work.get("authorships") or []
            for institution in authorship.get("institutions") or []
            if institution.get("id")
        }
        if (
            FROM_YEAR <= (work.get("publication_year") or 0) <= TO_YEAR
            and work.get("type") in ("article", "review")
            and source.get("type") == "journal"
            and (source.get("issn_l") or source.get("issn"))
            and not work.get("is_retracted")
            and not work.get("is_paratext")
            and institution_ids & beijing_ids
        ):
            kept.add(short_id(work["id"]))
    return kept
