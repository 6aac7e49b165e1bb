"""Settings from environment variables, with safe defaults for a laptop.

``DATABASE_URL`` defaults to SQLite in ``instance/``; ``SECRET_KEY`` comes from the
environment or is generated once into ``instance/secret_key``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_rate_limit(name: str, default: str) -> str:
    """A rate limit such as "10 per minute" (several joined by ";"); a malformed one stops the start."""
    from limits import parse_many

    value = os.environ.get(name) or default
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f'{name}={value!r} is not a rate limit: write it like "10 per minute" '
                         'or "10/minute;100/hour"') from None
    return value


def _secret_key(instance_dir: Path) -> str:
    """The key from SECRET_KEY, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url(instance_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{instance_dir / 'capital_academic.db'}")
    # psycopg 3 is the driver we ship; accept the usual postgres:// spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Production-safe defaults; every value can come from the environment."""

    def __init__(self, instance_dir: Path | None = None) -> None:
        instance_dir = Path(instance_dir or INSTANCE_DIR)
        self.INSTANCE_DIR = str(instance_dir)
        self.SECRET_KEY = _secret_key(instance_dir)
        self.SQLALCHEMY_DATABASE_URI = _database_url(instance_dir)
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(instance_dir / "uploads"))
        self.MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024

        # Where people reach the platform: every link in a mail starts with it (never with the
        # Host header of the request that caused the mail).
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        # How many reverse proxies in front of the app set X-Forwarded-For (0: none, header ignored).
        self.PROXY_COUNT = _env_int("PROXY_COUNT", 0)
        self.WTF_CSRF_ENABLED = True
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Sent over HTTPS only; on by default when the platform is served over HTTPS.
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", self.PUBLIC_BASE_URL.startswith("https://"))
        # A session ends SESSION_MAX_HOURS after its login, however active (the absolute
        # lifetime), and after SESSION_IDLE_MINUTES without a request.
        self.SESSION_MAX_HOURS = _env_int("SESSION_MAX_HOURS", 12)
        self.SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=self.SESSION_MAX_HOURS)
        self.LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
        # Failures from one address (any accounts) within LOGIN_LOCK_MINUTES before it is refused.
        self.LOGIN_IP_MAX_FAILURES = _env_int("LOGIN_IP_MAX_FAILURES", 30)
        # Werkzeug's hashing method; tests use a fast one, production keeps the strong default.
        self.PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
        # A new password needs at least this zxcvbn score (0 to 4; 3: safely unguessable online).
        self.PASSWORD_MIN_SCORE = _env_int("PASSWORD_MIN_SCORE", 3)
        self.PASSWORD_RESET_MAX_AGE_SECONDS = _env_int("PASSWORD_RESET_MAX_AGE_SECONDS", 3600)
        # Within PASSWORD_RESET_WINDOW_MINUTES an account gets at most PASSWORD_RESET_MAX_MAILS
        # links and one client address may ask PASSWORD_RESET_IP_MAX times (any addresses).
        self.PASSWORD_RESET_WINDOW_MINUTES = _env_int("PASSWORD_RESET_WINDOW_MINUTES", 60)
        self.PASSWORD_RESET_MAX_MAILS = _env_int("PASSWORD_RESET_MAX_MAILS", 3)
        self.PASSWORD_RESET_IP_MAX = _env_int("PASSWORD_RESET_IP_MAX", 10)
        # Self-registrations one client address may make within REGISTRATION_WINDOW_MINUTES.
        self.REGISTRATION_IP_MAX = _env_int("REGISTRATION_IP_MAX", 5)
        self.REGISTRATION_WINDOW_MINUTES = _env_int("REGISTRATION_WINDOW_MINUTES", 60)
        # An expert panel opens with at least this many members (conference_app.panels).
        self.PANEL_MIN_EXPERTS = _env_int("PANEL_MIN_EXPERTS", 5)
        # Its rounds of review: experts per candidate in triage, the shortlist's size, the results.
        self.PANEL_TRIAGE_PER_ITEM = _env_int("PANEL_TRIAGE_PER_ITEM", 3)
        self.PANEL_SHORTLIST_SIZE = _env_int("PANEL_SHORTLIST_SIZE", 60)
        self.PANEL_FINAL_RESULTS = _env_int("PANEL_FINAL_RESULTS", 20)
        # A rank interval wider than this share of a round's items flags the item for discussion.
        self.PANEL_MAX_RANK_WIDTH_SHARE = float(os.environ.get("PANEL_MAX_RANK_WIDTH_SHARE", "0.4"))

        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        self.BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
        self.LANGUAGES = {"zh_CN": "中文", "en": "English"}

        # Parts of public pages that every visitor sees alike (the calendar's list, a series'
        # public page) are kept this long in each worker (0: never); see core/cache.py.
        self.PUBLIC_PAGE_CACHE_SECONDS = _env_int("PUBLIC_PAGE_CACHE_SECONDS", 5)

        # Background jobs and shared rate-limit counters; empty: jobs run in a thread of the
        # web process (the embedded default) and counters stay in each process.
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        # A job on an RQ worker is stopped after JOB_TIMEOUT_SECONDS. A running job writes a
        # heartbeat every JOB_HEARTBEAT_SECONDS; one whose heartbeat is older than
        # JOB_STALE_SECONDS lost its worker and shows as interrupted, to be resumed.
        self.JOB_TIMEOUT_SECONDS = _env_int("JOB_TIMEOUT_SECONDS", 6 * 3600)
        self.JOB_HEARTBEAT_SECONDS = _env_int("JOB_HEARTBEAT_SECONDS", 5)
        self.JOB_STALE_SECONDS = _env_int("JOB_STALE_SECONDS", 60)
        # The request log (conference_app.core.requestlog): "text" (key=value) or "json".
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")

        # Rate limits (Flask-Limiter, conference_app.extensions), per client address: each is
        # "N per second|minute|hour|day", several joined by ";". Counted in Redis when REDIS_URL
        # is set (shared by the workers), else in each process; RATELIMIT_ENABLED=false turns
        # them off (load tests). A Redis outage falls back to counting in each process.
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.LOGIN_RATE_LIMIT = _env_rate_limit("LOGIN_RATE_LIMIT", "10 per minute")
        self.REGISTRATION_RATE_LIMIT = _env_rate_limit("REGISTRATION_RATE_LIMIT", "5 per minute")
        self.PASSWORD_CHANGE_RATE_LIMIT = _env_rate_limit("PASSWORD_CHANGE_RATE_LIMIT", "5 per minute")
        self.PASSWORD_RESET_RATE_LIMIT = _env_rate_limit("PASSWORD_RESET_RATE_LIMIT", "5 per minute")
        # Registering for a public event: people at one venue may share one address.
        self.EVENT_REGISTRATION_RATE_LIMIT = _env_rate_limit("EVENT_REGISTRATION_RATE_LIMIT", "30 per minute")
        # Every request to the JSON API together (scanners at one entrance share an address).
        self.API_RATE_LIMIT = _env_rate_limit("API_RATE_LIMIT", "300 per minute")

        self.MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
        self.MAIL_PORT = _env_int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
        self.MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@bast.example.cn")
        # Without a mail server, messages are written to this folder (one .eml file each).
        self.MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(instance_dir / "outbox"))
        # Mail by SMTP (core.outbox): a failed attempt is retried after MAIL_RETRY_SECONDS, doubling
        # each time, up to MAIL_MAX_ATTEMPTS attempts, then marked failed; a message being sent counts
        # as lost, and is sent again, after MAIL_SEND_LEASE_SECONDS.
        self.MAIL_RETRY_SECONDS = _env_int("MAIL_RETRY_SECONDS", 30)
        self.MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 5)
        self.MAIL_SEND_LEASE_SECONDS = _env_int("MAIL_SEND_LEASE_SECONDS", 300)
        # An audit-log export of more entries than this is a background job (audit.export).
        self.AUDIT_EXPORT_INLINE_MAX_ROWS = _env_int("AUDIT_EXPORT_INLINE_MAX_ROWS", 5000)
