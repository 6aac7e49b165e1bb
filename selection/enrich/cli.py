"""``python -m selection enrich``: the options, checked, and one line of result."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import selection.enrich as enrich_package
from selection.enrich.run import DEFAULT_WORKERS, NATIONAL_JOURNALS, PHASES, EnrichSettings, enrich
from selection.errors import SelectionError
from selection.openalex.client import add_connection_arguments, client_from_args


def register(subparsers) -> None:
    """``python -m selection enrich``."""
    parser = subparsers.add_parser(
        "enrich",
        help="world topic growth, national baselines and citing sides from OpenAlex grouped queries",
        description=enrich_package.__doc__.split("\n\n")[0],
    )
    parser.add_argument("--works", type=Path, required=True, help="the harvest's works.parquet")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--contention", type=Path,
                        help="work ids whose citing side to fetch, one a line (the ranking's contention.txt)")
    parser.add_argument("--budget", type=int, help="requests this session may make (default: no limit)")
    parser.add_argument("--resume", action="store_true", help="continue or extend the enrichment in --out")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated phases to run, in this order: {', '.join(PHASES)} (default: all)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help=f"threads, each with one request at a time (default {DEFAULT_WORKERS})")
    parser.add_argument("--national-journals", choices=NATIONAL_JOURNALS, default="harvest",
                        help="the national line's journals: the harvest's domestic journals (default) or every "
                             "journal OpenAlex places in China (a few more requests to list them, more histograms)")
    add_connection_arguments(parser)
    parser.set_defaults(func=run_enrich)


def settings_from_args(args: argparse.Namespace) -> EnrichSettings:
    """Check the options (one SelectionError naming the fix per problem)."""
    if args.budget is not None and args.budget < 1:
        raise SelectionError("--budget must be at least 1 request (leave it out for no limit)")
    if args.workers < 1:
        raise SelectionError("--workers must be at least 1")
    phases = tuple(phase.strip() for phase in args.phases.split(",") if phase.strip())
    unknown = [phase for phase in phases if phase not in PHASES]
    if unknown or not phases:
        raise SelectionError(f"--phases takes some of {', '.join(PHASES)}, got {args.phases!r}")
    return EnrichSettings(
        works_path=str(args.works),
        contention_path=str(args.contention) if args.contention else None,
        budget=args.budget,
        workers=args.workers,
        phases=phases,
        national_journals=args.national_journals,
    )


def run_enrich(args: argparse.Namespace) -> int:
    """The ``enrich`` subcommand."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    settings = settings_from_args(args)
    client = client_from_args(args)
    manifest = enrich(client, settings, args.out, resume=args.resume)
    parts = []
    for phase in PHASES:
        record = manifest["phases"].get(phase) or {}
        if "requests_this_session" in record:
            parts.append(f"{phase} {'done' if record['done'] else 'unfinished'} ({record['requests_this_session']} requests)")
    line = f"{args.out}: {manifest['status']}; " + ", ".join(parts)
    print(line + (f"; {manifest['note']}" if manifest.get("note") else ""))
    return 0
