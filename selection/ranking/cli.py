"""``python -m selection rank``: rank a works.parquet and write the candidate lists."""

from __future__ import annotations

import argparse
from pathlib import Path

from selection.ranking.settings import AUTHOR_RULES, load_rank_settings


def register(subparsers) -> None:
    """Add the ``rank`` subcommand."""
    parser = subparsers.add_parser(
        "rank",
        help="rank harvested works and pick 200-500 candidates per discipline and journal group",
        description=(
            "Rank the works of a works.parquet inside subfield x year x journal-group strata and "
            "write candidates.parquet, candidates.xlsx, summary.json and charts into --out. "
            "Everything is checked before anything is written; a failure leaves --out untouched."
        ),
    )
    parser.add_argument(
        "--works", required=True, type=Path, help="works.parquet of a harvest or of selection.synthetic"
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for the outputs (created or updated)")
    parser.add_argument("--settings", type=Path, help="TOML overriding selection/data/ranking_defaults.toml")
    parser.add_argument("--per-group", type=int, help="candidates per discipline and journal group, 200 to 500")
    parser.add_argument("--author-rule", choices=AUTHOR_RULES,
                        help="which Beijing authors count (default: first_or_corresponding)")
    parser.add_argument("--enrichment", type=Path,
                        help="output folder of python -m selection enrich: world topic growth, the national "
                             "baseline of domestic journals, the citing side of the works in contention")
    parser.add_argument("--journals", type=Path,
                        help="journal table of python -m selection journals import (CN numbers, tiers, warnings)")
    parser.set_defaults(func=run_rank)


def run_rank(args: argparse.Namespace) -> int:
    """Check settings and input, rank, write the outputs, print one line."""
    # Imported here: scikit-learn, matplotlib and openpyxl would slow every other subcommand.
    from selection.disciplines import load_disciplines
    from selection.files import file_sha256
    from selection.ranking.rank import load_works, rank_works
    from selection.ranking.report import write_report

    settings = load_rank_settings(args.settings).with_overrides(per_group=args.per_group, author_rule=args.author_rule)
    disciplines = load_disciplines()
    works = load_works(args.works)
    result = rank_works(works, settings, disciplines, _evidence(args))
    input_info = {"path": str(args.works), "sha256": file_sha256(args.works), "rows": len(works)}
    write_report(result, disciplines, input_info, args.out)
    short = len(result.shortfalls)
    print(
        f"{len(result.candidates)} candidates in {len(result.lists)} lists written to {args.out}; "
        f"{short} list(s) short of their quota of {settings.per_group} (see summary.json)"
    )
    return 0


def _evidence(args: argparse.Namespace):
    """The enrichment and the journal table named on the command line (none by default)."""
    from dataclasses import replace

    from selection.ranking.rank import Evidence

    journals = None
    if args.journals is not None:
        from selection.journal_lists import load_journal_table

        journals = load_journal_table(args.journals)
    if args.enrichment is None:
        return replace(Evidence.none(), journals=journals)
    from selection.enrich.folder import read_enrichment

    return Evidence.from_enrichment(read_enrichment(args.enrichment), journals)
