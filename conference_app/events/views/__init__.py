"""The events domain's pages, one module per audience, on two blueprints: the pages, and
the versioned JSON API (``/api/v1``, bearer tokens, no CSRF: it takes no cookies)."""

from flask import Blueprint

from conference_app.core.api import api_blueprint as new_api_blueprint

blueprint = Blueprint("events", __name__)
api_blueprint = new_api_blueprint("events_api", __name__)

from conference_app.events.views import api, influence, manage, public, series  # noqa: E402,F401  (their routes)

blueprints = [blueprint, api_blueprint]
