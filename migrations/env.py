"""Alembic environment: the app's engine and metadata, batch mode for SQLite, named constraints.

``render_as_batch`` and ``compare_type`` come from ``Migrate(...)`` in extensions.py; the
naming convention comes with the metadata, so constraint names match on every backend.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from conference_app.core.db import TitledEnum, UTCDateTime

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
engine = migrate_extension.db.engine
target_metadata = migrate_extension.db.metadata


def render_item(type_, obj, autogen_context):
    """Our column types are plain SQL types underneath: write them as such in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, TitledEnum):
        return f"sa.String(length={obj.impl.length})"
    return False


def skip_empty_revision(context, revision, directives):
    """`flask db migrate` with nothing changed writes no file."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def configure_args() -> dict:
    args = dict(migrate_extension.configure_args)
    args.setdefault("process_revision_directives", skip_empty_revision)
    args.setdefault("render_item", render_item)
    return args


def run_migrations_offline() -> None:
    """Write SQL for the app's database URL instead of running it."""
    context.configure(
        url=engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **configure_args(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **configure_args())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
