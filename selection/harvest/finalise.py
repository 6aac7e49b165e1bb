"""The end of a harvest: source countries from ``/sources``, then every raw page
normalised into ``works.parquet``."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from selection.disciplines import load_disciplines
from selection.files import read_json, write_atomic, write_json
from selection.harvest.folder import HarvestDir, leaf_states
from selection.harvest.normalize import WorkNormalizer, passes_harvest_rules, rows_to_table, table_counts
from selection.harvest.partitions import PartitionState
from selection.harvest.settings import HarvestSettings
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.openalex.client import OpenAlexClient
from selection.schema import WORKS_SCHEMA, short_id

SOURCE_BATCH_SIZE = 50
ROWS_PER_TABLE = 50_000  # rows normalised before they are packed into Arrow


def lookup_source_countries(client: OpenAlexClient, source_ids, cache_path: Path, workers: int) -> dict:
    """``{source_id: country_code or None}`` from ``/sources`` in batches of 50, cached.

    Ids already in the cache file are not asked again; the cache is saved as batches
    come back, so a killed lookup resumes where it stopped.
    """
    cache = read_json(cache_path) if cache_path.exists() else {"countries": {}, "requests": 0, "cost_usd": 0.0}
    countries = cache["countries"]
    missing = sorted(set(source_ids) - set(countries))
    batches = [missing[i : i + SOURCE_BATCH_SIZE] for i in range(0, len(missing), SOURCE_BATCH_SIZE)]

    def fetch(batch: list[str]) -> tuple[list[str], object]:
        query = client.sources().filter_or(openalex=batch).select(["id", "country_code"])
        return batch, query.get(per_page=SOURCE_BATCH_SIZE)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, (batch, listing) in enumerate(pool.map(fetch, batches), start=1):
            found = {short_id(source["id"]): source.get("country_code") for source in listing}
            for source_id in batch:
                countries[source_id] = found.get(source_id)
            cache["requests"] += listing.page.attempts
            cache["cost_usd"] += float(listing.page.meta.get("cost_usd") or 0.0)
            if done % 20 == 0 or done == len(batches):
                write_json(cache_path, cache)
    return cache


def finalise(client: OpenAlexClient, out: HarvestDir, settings: HarvestSettings, beijing_ids: set[str]) -> dict:
    """Look the sources' countries up, then normalise the raw pages into ``works.parquet``;
    returns the manifest's counts part."""
    leaves = leaf_states(out.load_states(settings.years(), len(read_json(out.plan)["batches"])))
    source_ids = set().union(*(state.source_ids for state in leaves))
    source_cache = lookup_source_countries(client, source_ids, out.sources, settings.workers)
    table, counts = works_from_raw_pages(out, leaves, settings, beijing_ids, source_cache["countries"])
    write_works(table, out.works)
    return {
        **counts,
        "source_lookups": {
            "sources": len(source_ids),
            "with_country": sum(1 for s in source_ids if source_cache["countries"].get(s)),
            "requests": source_cache["requests"],
            "cost_usd": round(source_cache["cost_usd"], 6),
        },
    }


def works_from_raw_pages(
    out: HarvestDir, leaves: list[PartitionState], settings: HarvestSettings, beijing_ids: set[str],
    source_countries: dict[str, str | None],
) -> tuple[pa.Table, dict]:
    """The works table of the raw pages of ``leaves`` (deduplicated, checked against the
    harvest rules, kept to ``settings.disciplines``, sorted by id, exactly ``WORKS_SCHEMA``)
    and the manifest's counts of it. The harvest and ``renormalise`` both build it here."""
    resolver = JournalGroupResolver(load_overrides(settings.overrides_path), source_countries)
    normalizer = WorkNormalizer(beijing_ids, resolver, load_disciplines(settings.disciplines_path))
    tables, rows, seen = [], [], set()
    records = rule_failures = 0
    for work in out.iter_raw_works(leaves):
        records += 1
        work_id = short_id(work.get("id"))
        if work_id in seen:
            continue
        seen.add(work_id)
        # The server filtered already; a mirror that ignores a filter must not leak works.
        if not passes_harvest_rules(work, beijing_ids, settings.from_year, settings.to_year):
            rule_failures += 1
            continue
        rows.append(normalizer.row(work))
        if len(rows) == ROWS_PER_TABLE:
            tables.append(rows_to_table(rows))
            rows = []
    tables.append(rows_to_table(rows))
    table = pa.concat_tables(tables)
    before_filter = table.num_rows
    if settings.disciplines:
        table = table.filter(pc.is_in(table["discipline"], value_set=pa.array(settings.disciplines)))
    table = table.sort_by("work_id").cast(WORKS_SCHEMA)
    counts = {
        "harvested_records": records,
        "duplicates_removed": records - len(seen),
        "failing_the_rules_removed": rule_failures,
        "outside_disciplines_removed": before_filter - table.num_rows,
        "works": table.num_rows,
        **table_counts(table),
        "missing_fields": dict(sorted(Counter(normalizer.missing).items())),
    }
    return table, counts


def write_works(table: pa.Table, path: Path) -> None:
    """``works.parquet``, atomically: a failure leaves the previous file."""
    write_atomic(path, lambda temporary: pq.write_table(table, temporary))
