"""``python -m selection harvest``: the options, checked, and one line of result."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

import selection.harvest as harvest_package
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.harvest.normalize import check_window
from selection.harvest.run import harvest
from selection.harvest.settings import BATCH_SIZE_MAX, DEFAULT_SPLIT_ABOVE, DEFAULT_WORKERS, HarvestSettings
from selection.institutions import CACHE_DIR_VARIABLE, DEFAULT_INSTITUTIONS_PATH, DEFAULT_MAX_AGE_DAYS
from selection.openalex.client import PER_PAGE_MAX, add_connection_arguments, client_from_args


def register(subparsers) -> None:
    """``python -m selection harvest``."""
    parser = subparsers.add_parser(
        "harvest",
        help="harvest Beijing works in ISSN journals from OpenAlex into works.parquet",
        description=harvest_package.__doc__.split("\n\n")[0],
    )
    parser.add_argument("--from-year", type=int, required=True, help="first publication year")
    parser.add_argument("--to-year", type=int, required=True, help="last publication year (a window of 3 to 5 years)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted harvest in --out")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help=f"worker threads, each with one page request at a time (default {DEFAULT_WORKERS})")
    parser.add_argument("--split-above", type=int, default=DEFAULT_SPLIT_ABOVE,
                        help=f"split a partition with more works into date ranges (default {DEFAULT_SPLIT_ABOVE})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE_MAX, help="institution ids per OR filter (at most 50)")
    parser.add_argument("--institutions", type=Path,
                        help="Beijing institution list CSV (default: built from the server at the start, every "
                        f"institution it places in Beijing plus the manual rows of {DEFAULT_INSTITUTIONS_PATH.name}; "
                        "a resumed run keeps the list of the run it continues)")
    parser.add_argument("--institutions-max-age-days", type=int, default=DEFAULT_MAX_AGE_DAYS,
                        help=f"reuse a list built from the same server for this many days (default {DEFAULT_MAX_AGE_DAYS}; "
                        f"0 builds it anew; cached in ${CACHE_DIR_VARIABLE}, else ~/.cache/capital-academic-selection)")
    parser.add_argument("--disciplines", help="comma-separated discipline keys to keep (default: all works)")
    parser.add_argument("--disciplines-file", type=Path, help="discipline mapping TOML (default: the packaged one)")
    parser.add_argument("--journal-overrides", type=Path, help="ISSN -> CN number table (default: the packaged one)")
    parser.add_argument("--quiet", action="store_true", help="log lines instead of a progress bar")
    add_connection_arguments(parser)
    parser.set_defaults(func=run_harvest)


def settings_from_args(args: argparse.Namespace, today: dt.date | None = None) -> HarvestSettings:
    """Check the options (one SelectionError naming the fix per problem)."""
    check_window(args.from_year, args.to_year, today)
    if not 1 <= args.batch_size <= BATCH_SIZE_MAX:
        raise SelectionError(f"--batch-size must be between 1 and {BATCH_SIZE_MAX}")
    if args.institutions_max_age_days < 0:
        raise SelectionError("--institutions-max-age-days must be 0 (always build the list anew) or more")
    if args.workers < 1:
        raise SelectionError("--workers must be at least 1")
    if args.split_above < PER_PAGE_MAX:
        raise SelectionError(f"--split-above must be at least {PER_PAGE_MAX}")
    disciplines = None
    if args.disciplines:
        disciplines = tuple(key.strip() for key in args.disciplines.split(",") if key.strip())
        known = load_disciplines(args.disciplines_file)
        unknown = [key for key in disciplines if key not in known]
        if unknown:
            raise SelectionError(
                f"unknown discipline {', '.join(unknown)}; valid keys: {', '.join(known.keys())}"
            )
    return HarvestSettings(
        from_year=args.from_year,
        to_year=args.to_year,
        institutions_path=str(args.institutions) if args.institutions else None,
        institutions_max_age_days=args.institutions_max_age_days,
        batch_size=args.batch_size,
        split_above=args.split_above,
        workers=args.workers,
        disciplines=disciplines,
        disciplines_path=str(args.disciplines_file) if args.disciplines_file else None,
        overrides_path=str(args.journal_overrides) if args.journal_overrides else None,
    )


def run_harvest(args: argparse.Namespace) -> int:
    """The ``harvest`` subcommand."""
    logging.basicConfig(level=logging.INFO if args.quiet else logging.WARNING, format="%(asctime)s %(message)s")
    settings = settings_from_args(args)
    client = client_from_args(args)
    manifest = harvest(client, settings, args.out, resume=args.resume, quiet=args.quiet)
    counts = manifest["counts"]
    print(
        f"{args.out}: {counts['works']} works ({counts['duplicates_removed']} duplicates removed), "
        f"{manifest['requests']['made']} requests, {manifest['requests']['retries']} retries, "
        f"{manifest['credits']['cost_usd']} USD, {manifest['duration_seconds']:.1f} s"
    )
    return 0
