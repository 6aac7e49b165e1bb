"""``python -m selection``: one subcommand per module.

Each module in ``SUBCOMMAND_MODULES`` defines ``register(subparsers)``, which adds its
parser and sets ``func`` (called with the parsed arguments, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from selection.errors import SelectionError

SUBCOMMAND_MODULES = (
    "selection.institutions",
    "selection.journal_lists",
    "selection.harvest.cli",
    "selection.harvest.renormalise",
    "selection.harvest.snapshot",
    "selection.enrich.cli",
    "selection.ranking.cli",
    "selection.panel.works",
    "selection.panel.conflicts",
    "selection.panel.assign",
    "selection.panel.stats",
    "selection.imports.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every module's subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m selection",
        description="Frontier-results selection: harvest from OpenAlex, rank candidates, and the panel's "
                    "conflicts, assignment and statistics.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a SelectionError becomes ``error: ...`` on stderr and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SelectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run again with --resume to continue", file=sys.stderr)
        return 130
