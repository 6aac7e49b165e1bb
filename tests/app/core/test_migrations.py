"""`flask db upgrade` builds the schema from nothing, and the models agree with the migrations."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from conference_app import create_app
from conference_app.extensions import db
from tests.app.conftest import _postgres_url, app_settings


def differences_after_upgrade(database_url: str, instance_dir) -> list:
    """Upgrade an empty database to head, then what autogenerate would still change."""
    app = create_app(app_settings(database_url, instance_dir))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=app.extensions["migrate"].configure_args)
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    return differences


def test_sqlite_upgrade_from_nothing_matches_the_models(tmp_path):
    assert differences_after_upgrade(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "instance") == []


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL not set")
def test_postgresql_upgrade_from_nothing_matches_the_models(tmp_path):
    server_url = _postgres_url()
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        fresh_url = admin.url.set(database=name).render_as_string(hide_password=False)
        assert differences_after_upgrade(fresh_url, tmp_path / "instance") == []
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
