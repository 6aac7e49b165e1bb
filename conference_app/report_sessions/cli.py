"""``flask invitations expire`` marks the open invitations past their deadline as expired;
``flask invitations remind`` reminds those still open. Both act as the system (command line)
in the audit log, in one unit of work (cron runs them daily)."""

from __future__ import annotations

import click

from conference_app.core.cli import OneLineCommand, fail
from conference_app.core.db import unit_of_work
from conference_app.core.services import ServiceError
from conference_app.report_sessions.services import publishing as _publishing  # noqa: F401  (its audit titles)
from conference_app.report_sessions.services.invitations import expire_overdue, send_reminders


@click.group("invitations", help="Report-session invitations: expiry and reminders.")
def invitations() -> None:
    pass


@invitations.command("expire", cls=OneLineCommand)
def expire_command() -> None:
    """Mark every open invitation whose deadline has passed as expired; the organisers are told."""
    with unit_of_work():
        count = len(expire_overdue())
    click.echo(f"{count} invitation(s) expired")


@invitations.command("remind", cls=OneLineCommand)
@click.option("--every-days", default=3, show_default=True, type=int,
              help="remind an open invitation this many days after it was sent or last reminded")
@click.option("--max", "max_reminders", default=3, show_default=True, type=int,
              help="remind each invitation at most this many times")
def remind_command(every_days: int, max_reminders: int) -> None:
    """Remind the invitees of open invitations before their deadline."""
    try:
        with unit_of_work():
            count = len(send_reminders(every_days=every_days, max_reminders=max_reminders))
    except ServiceError as error:
        fail(error)
    click.echo(f"{count} reminder(s) sent")


commands = [invitations]
