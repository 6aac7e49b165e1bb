"""What every domain's commands share: one-line refusals and usage errors."""

from __future__ import annotations

import click

from conference_app.extensions import db


def fail(message) -> None:
    """Stop the command with one line (exit 1); nothing it did is kept."""
    db.session.rollback()
    raise click.ClickException(str(message))


class OneLineCommand(click.Command):
    """A command whose usage errors (unknown role, missing option ...) are one line, exit 2."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            one_line = click.ClickException(error.format_message())
            one_line.exit_code = error.exit_code
            raise one_line from None
