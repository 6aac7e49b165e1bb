"""``flask --app conference_app users ...``: accounts from the command line.

The commands call the same services as the web pages, each in one unit of work; a refused
input prints one line and exits 1 (a usage error exits 2).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from conference_app.accounts import services as accounts
from conference_app.accounts import tokens
from conference_app.accounts.models import TokenScope
from conference_app.core.cli import OneLineCommand, fail
from conference_app.core.db import unit_of_work
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db

users = AppGroup("users", help="Create, list, disable and enable user accounts; issue API tokens.")
commands = [users]

ROLE_CHOICE = click.Choice([role.value for role in Role])


@users.command("create", cls=OneLineCommand)
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="The user's role.")
@click.option("--org", "organisation_id", type=int, help="Organisation id (society users only).")
@click.option("--name", help="Display name (default: the part of the e-mail before @).")
@click.option("--org-admin", is_flag=True, help="The society user administers the organisation.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from the first line of stdin.")
def create_user(email, role, organisation_id, name, org_admin, password_stdin):
    """Create an enabled account for EMAIL."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password on stdin")
    try:
        with unit_of_work():
            user = accounts.create_user(
                email,
                name or email.split("@")[0],
                role,
                organisation_id=organisation_id,
                is_org_admin=org_admin,
                password=password,
            )
    except ServiceError as error:
        fail(error.message)
    click.echo(f"created user {user.id} {user.email} ({user.role})")


@users.command("list", cls=OneLineCommand)
@click.option("--role", type=ROLE_CHOICE, help="Only users of this role.")
def list_users(role):
    """One line per user: id, e-mail, role, organisation id, enabled or disabled."""
    for user in db.session.scalars(accounts.users_query(role=role)):
        state = "enabled" if user.is_enabled else "disabled"
        admin = " org-admin" if user.is_org_admin else ""
        click.echo(f"{user.id}\t{user.email}\t{user.role}\t{user.organisation_id or '-'}\t{state}{admin}\t{user.name}")


@users.command("disable", cls=OneLineCommand)
@click.argument("email")
def disable_user(email):
    """Stop EMAIL from logging in."""
    _set_enabled(email, False)


@users.command("enable", cls=OneLineCommand)
@click.argument("email")
def enable_user(email):
    """Let a disabled EMAIL log in again."""
    _set_enabled(email, True)


def _set_enabled(email: str, enabled: bool) -> None:
    with unit_of_work():
        user = accounts.find_user(email)
        if user is None:
            fail(f"no user with e-mail {email}")
        accounts.set_enabled(user, enabled)
    click.echo(f"{'enabled' if enabled else 'disabled'} {user.email}")


@users.command("token", cls=OneLineCommand)
@click.argument("email")
@click.option("--scope", type=click.Choice([scope.value for scope in TokenScope]), required=True,
              help="What the token may do.")
@click.option("--name", help="What uses it, to tell tokens apart (default: the scope and today's date).")
def issue_token(email, scope, name):
    """Issue an API token for EMAIL and print it (the token alone on the last line; it is shown only once)."""
    with unit_of_work():
        user = accounts.find_user(email)
        if user is None:
            fail(f"no user with e-mail {email}")
        try:
            issued = tokens.issue_token(user, scope, name or f"{scope} {beijing_today().isoformat()}")
        except ServiceError as error:
            fail(error.message)
    click.echo(f"issued API token {issued.row.prefix}… ({issued.row.name}, scope {scope}) for {user.email}; "
               "keep it secret, it is not shown again:")
    click.echo(issued.secret)
