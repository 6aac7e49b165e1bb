"""gunicorn settings of ``make serve`` (docs/deployment.md); every value comes from the environment.

HOST, PORT (as for ``make demo``), WORKERS (web processes; default 2 x cores + 1, at most 8),
THREADS (per process, default 1), TIMEOUT (seconds, default 60). Before any worker starts, the
master builds the app once (so a generated secret key is written once, not raced by the
workers) and refuses to start on an unsafe production configuration
(``conference_app.core.production.production_problems``).
"""

import multiprocessing
import os
import sys

from gunicorn.glogging import CONFIG_DEFAULTS


def _whole_number(name: str, default: int) -> int:
    """A positive whole number from the environment; one clear line and exit 2 otherwise."""
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"{name}={value!r}: give a whole number of at least 1")
    return int(value)


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = _whole_number("WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _whole_number("THREADS", 1)
timeout = _whole_number("TIMEOUT", 60)
wsgi_app = "conference_app:create_app()"
accesslog = None  # the app logs each request itself, with its request and user id (core/requestlog.py)
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's own logging, and the app's on standard error; with LOG_FORMAT=json each request
# line is the bare JSON object, for a log collector.
_json_requests = os.environ.get("LOG_FORMAT") == "json"
logconfig_dict = {
    **CONFIG_DEFAULTS,
    "formatters": {**CONFIG_DEFAULTS["formatters"], "bare": {"format": "%(message)s"}},
    "handlers": {**CONFIG_DEFAULTS["handlers"],
                 "requests": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                              "formatter": "bare" if _json_requests else "generic"}},
    "loggers": {**CONFIG_DEFAULTS["loggers"],
                "conference_app": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
                "conference_app.requests": {"level": "INFO", "handlers": ["requests"], "propagate": False}},
}


def on_starting(server):
    """Refuse an unsafe configuration before any worker starts."""
    from conference_app import create_app
    from conference_app.core.production import production_problems

    problems = production_problems(create_app().config, server.cfg.workers)
    if problems:
        print("refusing to serve: unsafe production configuration:\n- " + "\n- ".join(problems), file=sys.stderr)
        sys.exit(3)
