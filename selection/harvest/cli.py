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
from selection.institutions import DEFAULT_INSTITUTIONS_PATH
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
    parser.add_argument("--institutions", type=Path, help=f"Beijing institution list (default {DEFAULT_INSTITUTIONS_PATH.name})")
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
        institutions_path=str(args.institutions or DEFAULT_INSTITUTIONS_PATH),
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
