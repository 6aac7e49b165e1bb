"""``flask selection import --candidates DIR/candidates.parquet --round NAME`` imports a
ranking's output folder as a selection round."""

from __future__ import annotations

from pathlib import Path

import click

from conference_app.core.cli import OneLineCommand, fail
from conference_app.core.db import unit_of_work
from conference_app.core.services import ServiceError


@click.group("selection", help="Selection rounds: import the output of python -m selection rank.")
def selection() -> None:
    pass


@selection.command("import", cls=OneLineCommand)
@click.option("--candidates", "candidates_path", required=True, type=click.Path(),
              help="candidates.parquet of a ranking output folder (or the folder itself)")
@click.option("--round", "round_name", required=True, help="the round's name")
def import_command(candidates_path: str, round_name: str) -> None:
    """Import the ranking output holding CANDIDATES (with its summary.json and charts) as round NAME."""
    from conference_app.panels.services import import_round

    path = Path(candidates_path)
    folder = path if path.is_dir() else path.parent
    try:
        with unit_of_work():
            result = import_round(folder, round_name, actor=None)
            selection_round = result.round
            round_id, name, count = selection_round.id, selection_round.name, selection_round.candidate_count
            lists = len(selection_round.lists)
    except ServiceError as error:
        fail(f"{candidates_path}: {error}")
    if result.created:
        click.echo(f"round {name} imported (id {round_id}): {count} candidates in {lists} lists")
    else:
        click.echo(f"{candidates_path} is already imported as round {name} (id {round_id}); nothing written")


commands = [selection]
