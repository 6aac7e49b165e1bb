"""Commands of the application as a whole: ``demo load``, ``translate update`` and
``check-config`` (``core.production``).

Each domain adds its own groups in ``<domain>/cli.py`` (a ``commands`` list), found by the
factory. Commands run their work in ``core.db.unit_of_work()``; a refused input prints one
line and exits 1, a usage error one line and exit 2.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from conference_app.core.cli import fail
from conference_app.core.production import check_config

demo = AppGroup("demo", help="Demonstration data.")
translate = AppGroup("translate", help="Maintain the translation catalogs.")
commands = [demo, translate, check_config]


@demo.command("load")
@click.option("--scale", type=click.Choice(["small", "large"]), default="small",
              help="large also writes 300 organisations, 2,000 events and 50,000 registrations (benchmark).")
def load_demo(scale):
    """Fill an empty database with demonstration organisations, users and the Academic Month."""
    from conference_app.core.db import unit_of_work
    from conference_app.demo import load_demo as load

    with unit_of_work():
        load(scale=scale)
    click.echo("demo data loaded")


@translate.command("update")
@click.argument("domains", nargs=-1, required=True)
def update_translations(domains):
    """Refresh each DOMAIN's zh_CN catalog from its code and templates (e.g. core accounts)."""
    from conference_app.core.i18n import PACKAGE_DIR, update_catalog

    for domain in domains:
        if not (PACKAGE_DIR / domain).is_dir():
            fail(f"no domain package conference_app/{domain}")
        path, count, untranslated = update_catalog(domain)
        click.echo(f"{path}: {count} messages, {untranslated} untranslated")
