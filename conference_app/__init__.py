"""The Capital Academic Platform web application (Flask application factory)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from conference_app.extensions import csrf, db, limiter, login_manager, migrate
from config import Config

REPO_DIR = Path(__file__).resolve().parent.parent

# The domain packages, in their layering order (docs/architecture.md): a package imports
# only from those before it (tests/app/test_layering.py). Each may provide, by convention,
# ``models`` (its tables), ``permissions`` (its permissions, navbar links and home
# sections), ``views`` (a ``blueprint``, or a ``blueprints`` list) and ``cli`` (a
# ``commands`` list); adding a domain is one line here.
DOMAINS = ("core", "audit", "workflow", "accounts", "organisations", "notifications", "jobs", "events", "programs", "panels", "workbench", "report_sessions")


def domain_module(domain: str, part: str):
    """``conference_app.<domain>.<part>`` imported, or None when the domain has no such module."""
    name = f"conference_app.{domain}.{part}"
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None


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

    from conference_app.core import db as core_db

    core_db.init_app(app)  # the <id:...> converter before any route, the commit of each request
    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_DIR / "migrations"))
    limiter.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from conference_app.core import i18n, mail, uploads  # noqa: F401  (mail, uploads: session hooks)

    i18n.init_app(app)
    _load_domains(app)
    if app.config.get("AUDIT_GUARD"):
        from conference_app.audit import guard  # noqa: F401  (its session hooks)

    from conference_app.core import errors, layout, requestlog, security
    from conference_app.core.permissions import enforce_route_permission

    requestlog.init_app(app)  # first: its stamp is taken before the permission check
    app.before_request(enforce_route_permission)
    security.init_app(app)
    errors.init_app(app)
    layout.init_app(app)
    return app


def _load_domains(app: Flask) -> None:
    """Every domain's models (so SQLAlchemy and Alembic see all tables), permissions,
    blueprint and commands; then the application's own commands."""
    for part in ("models", "permissions"):
        for domain in DOMAINS:
            domain_module(domain, part)
    for domain in DOMAINS:
        views = domain_module(domain, "views")
        for blueprint in getattr(views, "blueprints", [views.blueprint] if views is not None else []):
            app.register_blueprint(blueprint)
        cli = domain_module(domain, "cli")
        for command in getattr(cli, "commands", ()):
            app.cli.add_command(command)
    from conference_app import cli

    for command in cli.commands:
        app.cli.add_command(command)
