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
            # Click lists a missing choice option's values on lines of their own: keep one line.
            one_line = click.ClickException(" ".join(error.format_message().split()))
            one_line.exit_code = error.exit_code
            raise one_line from None

from conference_app.core.backup_cli import commands  # noqa: E402, F401  (the backup group; it uses the two above)
