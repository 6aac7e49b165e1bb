"""Extensions created once here and bound to the app in ``create_app``."""

from flask import current_app
from flask_babel import Babel
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


# --- rate limits ------------------------------------------------------------------------------
# Counted per client address (behind a proxy, ProxyFix has taken it from X-Forwarded-For; see
# PROXY_COUNT), in RATELIMIT_STORAGE_URI: Redis shares the counts between worker processes,
# memory:// keeps them per process. Every limit is a setting ("10 per minute") read at each
# request; RATELIMIT_ENABLED=false switches them all off (load tests). One Limiter serves the
# process: an app built with RATELIMIT_ENABLED off is never limited, whatever other apps the
# process built (tests).


def _outside_the_api() -> bool:
    from conference_app.core.errors import is_api_request

    return not is_api_request()


limiter = Limiter(
    get_remote_address,
    # Every request to the JSON API (/api/), whatever its route, counts towards API_RATE_LIMIT.
    application_limits=[ApplicationLimit(lambda: current_app.config["API_RATE_LIMIT"], scope="api",
                                         exempt_when=_outside_the_api)],
)


@limiter.request_filter
def _limits_off_for_this_app() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def rate_limit(setting: str, methods: tuple[str, ...] = ("POST",)):
    """Decorator of a view: requests by ``methods`` from one client address are refused with a
    429 (``core.errors``) beyond the limit in the setting ``setting`` (``LOGIN_RATE_LIMIT`` ...).

    Put it right under the route decorator; forms are limited on POST only, so their page
    always opens.
    """
    return limiter.limit(lambda: current_app.config[setting], methods=list(methods))
