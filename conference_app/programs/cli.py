"""``flask calls check FILE`` validates a call file; ``flask calls load FILE`` loads or updates it."""

from __future__ import annotations

from pathlib import Path

import click

from conference_app.core.cli import OneLineCommand, fail
from conference_app.core.db import unit_of_work
from conference_app.core.services import ServiceError
from conference_app.programs.call_schema import CallFileError, load_call_file


def _validated(path: str):
    """The file's definition, or every error line and exit 2."""
    try:
        return load_call_file(path)
    except CallFileError as error:
        for line in error.errors:
            click.echo(line, err=True)
        raise SystemExit(2) from None


@click.group("calls", help="Program calls as data: check and load YAML call files.")
def calls() -> None:
    pass


@calls.command("check", cls=OneLineCommand)
@click.argument("path", type=click.Path(dir_okay=False))
def check(path: str) -> None:
    """Validate FILE only: exit 0, or exit 2 with one FILE:LINE: field: message line per problem."""
    definition = _validated(path)
    categories = ", ".join(f"{c.code} ({len(c.all_indicators(None))} indicators)" for c in definition.categories)
    click.echo(f"{path}: call {definition.code} is valid: {categories}")


@calls.command("load", cls=OneLineCommand)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--publish", is_flag=True, help="Publish the call once loaded.")
def load(path: str, publish: bool) -> None:
    """Load FILE as a new call or update the call with its code (refused once it has applications)."""
    from conference_app.programs.services.calls import load_call, publish_call

    definition = _validated(path)
    try:
        with unit_of_work():
            result = load_call(definition, source_name=Path(path).name, source=Path(path).read_bytes())
            if publish and result.call.status == "draft":
                publish_call(result.call, actor=None)
    except ServiceError as error:
        fail(f"{path}: {error}")
    state = "loaded" if result.created else "updated" if result.changed else "unchanged"
    click.echo(f"call {definition.code} {state} ({len(definition.categories)} categories, "
               f"status {result.call.status})")


commands = [calls]
