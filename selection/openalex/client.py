"""pyalex, pointed at any OpenAlex-compatible server, with our own transport.

pyalex builds the query strings and runs the cursor paging (``Works().filter(...)
.paginate(...)``), but it hard-codes ``https://api.openalex.org``, reads its key from a
module-wide config and retries only on https. The thin subclasses here (``Works``,
``Institutions``, ``Sources``; pyalex derives the URL path from the class name) keep its
query building and paging and send every request through one ``OpenAlexClient``:

- a base URL (a mirror, a local test server), http or https alike;
- the API key and contact e-mail of this client, not of the process;
- one shared ``RateLimiter`` counting every attempt (a 429 widens its safety margin);
- retries: 429 and 403 wait for ``Retry-After`` (holding back all threads), 5xx,
  timeouts, broken connections and unparsable bodies back off exponentially with jitter;
- counters of requests, retries and the credits the server reports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyalex
import requests
from pyalex.api import AlexConfig, OpenAlexAuth, OpenAlexResponseList

from selection.errors import SelectionError
from selection.openalex.ratelimit import RateLimiter

DEFAULT_BASE_URL = "https://api.openalex.org"
DEFAULT_RATE = 10.0
PER_PAGE_MAX = 200
USER_AGENT = "capital-academic-platform-selection (pyalex)"


class OpenAlexError(SelectionError):
    """A request OpenAlex refused or that failed beyond the retry limit."""


class OpenAlexAuthError(OpenAlexError):
    """The server rejected the API key (401)."""


class OpenAlexQueryError(OpenAlexError):
    """The server rejected the query itself (400, 404): retrying cannot help."""


class OpenAlexUnavailable(OpenAlexError):
    """The server could not be reached or kept failing until the retry limit."""


@dataclass
class Page:
    """One successful response: the body as received and as parsed."""

    url: str
    body: bytes
    data: dict
    attempts: int

    @property
    def meta(self) -> dict:
        """The response's ``meta`` object (empty for a single entity)."""
        return self.data.get("meta") or {}

    @property
    def results(self) -> list:
        """The response's ``results`` list (empty for a single entity)."""
        return self.data.get("results") or []


@dataclass
class RequestStats:
    """Thread-safe counters over every request a client made."""

    requests: int = 0
    retries: int = 0
    failures: Counter = field(default_factory=Counter)
    cost_usd: float = 0.0
    rate_limit_headers: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self) -> None:
        """One more request went out (first attempts and retries alike)."""
        with self._lock:
            self.requests += 1

    def count_failure(self, kind: str, will_retry: bool) -> None:
        """A failed attempt of this kind; ``will_retry`` when another attempt follows."""
        with self._lock:
            self.failures[kind] += 1
            if will_retry:
                self.retries += 1

    def count_response(self, meta: dict, headers) -> None:
        """Add the credits a response reports (``meta.cost_usd``, else the cost header)."""
        cost = meta.get("cost_usd") if isinstance(meta, dict) else None
        if cost is None:
            cost = headers.get("X-RateLimit-Cost-USD")
        limit_headers = {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit")}
        with self._lock:
            if cost is not None:
                try:
                    self.cost_usd += float(cost)
                except ValueError:
                    pass
            self.rate_limit_headers.update(limit_headers)

    def as_dict(self) -> dict:
        """A JSON-ready summary for a manifest."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "failures": dict(self.failures),
                "cost_usd": round(self.cost_usd, 6),
                "rate_limit_headers": dict(self.rate_limit_headers),
            }


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; delays double from ``backoff`` up to ``backoff_cap``."""

    max_retries: int = 8
    backoff: float = 0.5
    backoff_cap: float = 60.0
    # A Retry-After longer than this means the daily budget is spent: stop, resume later.
    max_retry_after: float = 600.0
    # Attempts while the server has never answered: a wrong base URL should fail fast.
    unreachable_attempts: int = 3

    def delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1-based): exponential, jittered."""
        ceiling = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class OpenAlexClient:
    """Sends pyalex's requests to ``base_url`` under one rate limit, with retries.

    Use ``client.works()``, ``client.institutions()``, ``client.sources()`` exactly like
    pyalex's ``Works()`` etc. Safe to share between threads (one HTTP session per thread).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        mailto: str | None = None,
        rate: float = DEFAULT_RATE,
        limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        retry: RetryPolicy | None = None,
    ):
        self.base_url = _check_base_url(base_url or DEFAULT_BASE_URL)
        self.api_key = api_key or None
        self.mailto = mailto or None
        self.limiter = limiter or RateLimiter(rate)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self._auth = OpenAlexAuth(
            AlexConfig(email=self.mailto, api_key=self.api_key, user_agent=USER_AGENT)
        )
        self._sessions = threading.local()
        self._server_answered = False

    def works(self) -> Works:
        """A pyalex ``Works`` query bound to this client."""
        return Works(self)

    def institutions(self) -> Institutions:
        """A pyalex ``Institutions`` query bound to this client."""
        return Institutions(self)

    def sources(self) -> Sources:
        """A pyalex ``Sources`` query bound to this client."""
        return Sources(self)

    @staticmethod
    @contextlib.contextmanager
    def priority(value: float):
        """Within this block the calling thread's requests wait for the rate limit with
        ``value`` as priority (higher goes first; default 0)."""
        previous = getattr(_turn, "priority", 0.0)
        _turn.priority = value
        try:
            yield
        finally:
            _turn.priority = previous

    def rebase(self, pyalex_url: str) -> str:
        """Move a URL pyalex built for api.openalex.org onto this client's base URL."""
        built = urlsplit(pyalex_url)
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + built.path, built.query, ""))

    def fetch(self, url: str) -> Page:
        """GET ``url`` (already on the base URL) with rate limit and retries.

        Raises OpenAlexAuthError (401), OpenAlexQueryError (400/404) at once and
        OpenAlexUnavailable once the retries are spent.
        """
        request_url = self._with_identity(url)
        attempt = 0
        while True:
            attempt += 1
            self.stats.count_request()
            page, kind, wait = self._attempt(request_url, url, attempt)
            if page is not None:
                page.attempts = attempt
                return page
            retries_left = self._retries_left(attempt)
            self.stats.count_failure(kind, will_retry=retries_left)
            if not retries_left:
                raise self._gave_up(url, attempt, kind)
            if wait is None:
                wait = self.retry.delay(attempt)
            time.sleep(wait)

    def _attempt(self, request_url: str, url: str, attempt: int) -> tuple[Page | None, str, float | None]:
        """One request (retry number ``attempt``): ``(page, "", None)``, or ``(None, kind of
        failure, seconds to hold every thread back or None)``; raises for failures a retry
        cannot mend."""
        try:
            response = self._session().get(request_url, auth=self._auth, timeout=self.timeout)
            body = response.content
        except requests.Timeout:
            return None, "timeout", None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            # urllib3 checks Content-Length: a body cut short lands here.
            return None, "broken body", None
        except requests.ConnectionError:
            return None, ("connection" if not self._server_answered else "connection lost"), None
        self._server_answered = True
        status = response.status_code
        if status == 200:
            try:
                data = json.loads(body)
            except ValueError:
                return None, "broken JSON", None
            if not isinstance(data, dict):
                return None, "broken JSON", None
            self.stats.count_response(data.get("meta") or {}, response.headers)
            return Page(url=url, body=body, data=data, attempts=0), "", None
        if status in (429, 403):
            if _budget_spent(response):
                raise OpenAlexUnavailable(
                    f"the daily OpenAlex budget of this key is spent (HTTP {status}, no credits left); "
                    "run again with --resume once it resets (midnight UTC)"
                )
            wait = _retry_after(response)
            if wait is not None and wait > self.retry.max_retry_after:
                raise OpenAlexUnavailable(
                    f"OpenAlex asks to wait {wait:.0f} s (HTTP {status}: daily budget spent?); "
                    "run again later with --resume"
                )
            # Without Retry-After, back off as for other failures, growing with each attempt.
            wait = wait if wait is not None else self.retry.delay(attempt)
            if status == 429:
                self.limiter.refused()
            self.limiter.hold(wait)
            return None, f"HTTP {status}", wait
        if status >= 500:
            return None, f"HTTP {status}", None
        message = _error_message(body)
        if status == 401:
            raise OpenAlexAuthError(
                f"{self.base_url} rejected the API key (HTTP 401: {message}); "
                "pass a valid key with --api-key or OPENALEX_API_KEY"
            )
        raise OpenAlexQueryError(f"{self.base_url} rejected {_path_and_query(url)} (HTTP {status}: {message})")

    def _retries_left(self, attempt: int) -> bool:
        if not self._server_answered:
            return attempt < self.retry.unreachable_attempts
        return attempt <= self.retry.max_retries

    def _gave_up(self, url: str, attempts: int, kind: str) -> OpenAlexUnavailable:
        if not self._server_answered:
            return OpenAlexUnavailable(
                f"cannot reach {self.base_url} ({kind} after {attempts} attempts); "
                "check --base-url / OPENALEX_BASE_URL and the network"
            )
        return OpenAlexUnavailable(
            f"{self.base_url} kept failing ({kind}, {attempts} attempts) on {_path_and_query(url)}; "
            "run again later with --resume"
        )

    def _with_identity(self, url: str) -> str:
        # OpenAlex documents ?api_key= and ?mailto=; pyalex's headers go along as well.
        extra = {k: v for k, v in (("api_key", self.api_key), ("mailto", self.mailto)) if v}
        if not extra:
            return url
        return url + ("&" if "?" in url else "?") + urlencode(extra)

    def _session(self) -> requests.Session:
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = requests.Session()
            adapter = _PacedAdapter(self.limiter, max_retries=0, pool_connections=1, pool_maxsize=1)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._sessions.session = session
        return session


class _PacedAdapter(requests.adapters.HTTPAdapter):
    """Takes the request's turn from the rate limiter as late as possible: with the request
    prepared, just before it goes on the wire, so that little lies between the limiter's
    clock and the server's arrival stamp."""

    def __init__(self, limiter: RateLimiter, **options):
        super().__init__(**options)
        self.limiter = limiter

    def send(self, request, **options):
        self._connect(request, options)
        self.limiter.acquire(priority=getattr(_turn, "priority", 0.0))
        return super().send(request, **options)

    def _connect(self, request, options) -> None:
        """Open the pool's connection before the request's turn: a new connection (TCP and
        TLS handshakes, the server's accept) delays the request's arrival by up to a tenth
        of a second, more than the limiter's margin. A failure here is left to ``send``."""
        try:
            pool = self.get_connection_with_tls_context(
                request, options.get("verify", True), options.get("proxies"), options.get("cert")
            )
            connection = pool._get_conn()
        except Exception:  # noqa: BLE001 (send reports the same failure properly)
            return
        try:
            if connection.sock is None:
                connection.connect()
        except Exception:  # noqa: BLE001 (urllib3's connection errors; send raises them again)
            connection.close()
        finally:
            pool._put_conn(connection)


_turn = threading.local()  # this thread's request priority (``OpenAlexClient.priority``)


class _ClientBound:
    """Mixin over a pyalex collection: pyalex builds URLs and pages, the client sends."""

    def __init__(self, client: OpenAlexClient, params=None):
        super().__init__(params)
        self.client = client

    @property
    def url(self) -> str:
        """pyalex's URL for this query, moved onto the client's base URL."""
        return self.client.rebase(super().url)

    def _get_from_url(self, url, session=None):
        # pyalex passes its own session; ours (rate limit, retries, auth) is used instead.
        page = self.client.fetch(url)
        if "results" in page.data:
            listing = OpenAlexResponseList(page.results, page.meta, self.resource_class)
            listing.page = page
            return listing
        if "id" in page.data:
            return self.resource_class(page.data)
        raise OpenAlexQueryError(f"unexpected response from {_path_and_query(url)}: neither results nor id")


class Works(_ClientBound, pyalex.Works):
    """pyalex ``Works`` bound to an OpenAlexClient."""


class Institutions(_ClientBound, pyalex.Institutions):
    """pyalex ``Institutions`` bound to an OpenAlexClient."""


class Sources(_ClientBound, pyalex.Sources):
    """pyalex ``Sources`` bound to an OpenAlexClient."""


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every subcommand that talks to OpenAlex shares."""
    parser.add_argument("--base-url", help=f"OpenAlex API or a mirror (env OPENALEX_BASE_URL; default {DEFAULT_BASE_URL})")
    parser.add_argument("--api-key", help="OpenAlex API key (env OPENALEX_API_KEY)")
    parser.add_argument("--mailto", help="contact e-mail sent with every request (env OPENALEX_MAILTO)")
    parser.add_argument("--rate", type=float, help="requests per second, all workers together "
                        f"(env OPENALEX_RATE_LIMIT; default {DEFAULT_RATE:g})")
    parser.add_argument("--max-retries", type=int, default=RetryPolicy.max_retries, help="retries of one request before the run stops (default 8)")


def client_from_args(args: argparse.Namespace) -> OpenAlexClient:
    """An OpenAlexClient from ``add_connection_arguments`` options, falling back to the
    environment (``OPENALEX_BASE_URL``, ``OPENALEX_API_KEY``, ``OPENALEX_MAILTO``,
    ``OPENALEX_RATE_LIMIT``), then to the defaults."""
    rate = args.rate if args.rate is not None else rate_from_environment()
    if rate <= 0 or not math.isfinite(rate):
        raise SelectionError("--rate must be a positive number of requests per second")
    if args.max_retries < 0:
        raise SelectionError("--max-retries must be 0 or more")
    client = OpenAlexClient(
        base_url=args.base_url or os.environ.get("OPENALEX_BASE_URL"),
        api_key=args.api_key or os.environ.get("OPENALEX_API_KEY"),
        mailto=args.mailto or os.environ.get("OPENALEX_MAILTO"),
        rate=rate,
        retry=RetryPolicy(max_retries=args.max_retries),
    )
    if client.api_key is None and urlsplit(client.base_url).netloc == urlsplit(DEFAULT_BASE_URL).netloc:
        # Since February 2026 a keyless client gets a budget of a few requests a day.
        raise SelectionError(
            "api.openalex.org needs an API key: pass --api-key or set OPENALEX_API_KEY "
            "(free at openalex.org/settings/api)"
        )
    return client


def rate_from_environment() -> float:
    """Requests per second from ``OPENALEX_RATE_LIMIT`` (``DEFAULT_RATE`` when unset or
    empty); SelectionError naming the variable when it is not a positive number."""
    text = os.environ.get("OPENALEX_RATE_LIMIT", "").strip()
    if not text:
        return DEFAULT_RATE
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise SelectionError(
            f"OPENALEX_RATE_LIMIT must be a positive number of requests per second, got {text!r}; "
            "fix or unset it, or pass --rate"
        )
    return rate


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SelectionError(
            f"base URL {base_url!r} is not an http(s) URL; pass e.g. --base-url https://api.openalex.org"
        )
    return base_url.rstrip("/")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # An HTTP date; rare enough that a normal backoff is a fine answer.
        return None


def _budget_spent(response: requests.Response) -> bool:
    """True when the rate-limit headers say no credits are left today."""
    for name in ("X-RateLimit-Remaining-USD", "X-RateLimit-Remaining"):
        value = response.headers.get(name)
        if value is not None:
            try:
                return float(value) <= 0
            except ValueError:
                return False
    return False


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip() or "no message"
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("error", "message") if data.get(k)]
        if parts:
            return ": ".join(parts)
    return str(data)[:200]


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
