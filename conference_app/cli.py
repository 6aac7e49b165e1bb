"""Operator commands: ``flask --app conference_app users ...`` and ``demo load``.

They call the same services as the web pages; a refused input prints one line and exits 1.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from conference_app.accounts import services as accounts
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db

users = AppGroup("users", help="Create, list, disable and enable user accounts.")
demo = AppGroup("demo", help="Demonstration data.")
translate = AppGroup("translate", help="Maintain the translation catalogs.")

ROLE_CHOICE = click.Choice([role.value for role in Role])


def _fail(message) -> None:
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
        _fail("no password on stdin")
    try:
        user = accounts.create_user(
            email,
            name or email.split("@")[0],
            role,
            organisation_id=organisation_id,
            is_org_admin=org_admin,
            password=password,
        )
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
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
    user = accounts.find_user(email)
    if user is None:
        _fail(f"no user with e-mail {email}")
    accounts.set_enabled(user, enabled)
    db.session.commit()
    click.echo(f"{'enabled' if enabled else 'disabled'} {user.email}")


@demo.command("load")
def load_demo():
    """Fill an empty database with demonstration organisations and users."""
    from conference_app.demo import load_demo as load

    load()
    db.session.commit()
    click.echo("demo data loaded")


@translate.command("update")
@click.argument("domains", nargs=-1, required=True)
def update_translations(domains):
    """Refresh each DOMAIN's zh_CN catalog from its code and templates (e.g. core accounts)."""
    from conference_app.core.i18n import PACKAGE_DIR, update_catalog

    for domain in domains:
        if not (PACKAGE_DIR / domain).is_dir():
            _fail(f"no domain package conference_app/{domain}")
        path, count, untranslated = update_catalog(domain)
        click.echo(f"{path}: {count} messages, {untranslated} untranslated")


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(translate)
