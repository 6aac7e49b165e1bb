"""The Capital Academic Platform web application (Flask application factory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config
from conference_app.extensions import csrf, db, login_manager, migrate

REPO_DIR = Path(__file__).resolve().parent.parent

# Domain packages; each exposes ``blueprint`` in views.py (and registers its permissions there).
BLUEPRINT_MODULES = (
    "conference_app.core.views",
    "conference_app.accounts.views",
    "conference_app.organisations.views",
    "conference_app.audit.views",
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``overrides`` (tests) replace settings read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(REPO_DIR / "templates"),
        instance_path=str(Config().INSTANCE_DIR),
    )
    app.config.from_object(Config())
    app.config.update(overrides or {})
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)

    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])

    from conference_app.core.db import IdConverter

    app.url_map.converters["id"] = IdConverter  # before any route uses <id:...>
    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_DIR / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from conference_app.core import i18n, mail  # noqa: F401  (mail: send-after-commit hooks)

    i18n.init_app(app)

    _register_models()
    _register_blueprints(app)

    from conference_app.core import errors, layout
    from conference_app.core.permissions import enforce_route_permission

    app.before_request(enforce_route_permission)
    errors.init_app(app)
    layout.init_app(app)

    from conference_app import cli

    cli.init_app(app)
    return app


def _register_models() -> None:
    """Import every model module so SQLAlchemy and Alembic see all tables."""
    from conference_app.accounts import models as _accounts  # noqa: F401
    from conference_app.audit import models as _audit  # noqa: F401
    from conference_app.organisations import models as _organisations  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    import importlib

    for module_name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(module_name).blueprint)
