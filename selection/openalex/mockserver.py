"""A local OpenAlex-compatible HTTP server for tests and benchmarks.

Serves ``/works``, ``/institutions`` and ``/sources`` (lists and single records) from
real records (the shared ``data/openalex`` folder) and/or a synthetic world, with the
parts of the API the harvest and the enrichment use: ``filter`` (``,`` for AND, ``|`` for
OR, ``!`` for NOT, ``>``/``<`` on years and citation counts), ``select``, ``per-page`` up
to 200, cursor paging (``next_cursor`` on every non-empty page, then an empty last page,
as OpenAlex does), ``page`` paging, ``meta.count``, ``meta.cost_usd`` and the rate-limit
headers, a 400 with OpenAlex-style error JSON for unknown filters or parameters, and a 401
when an API key is required and missing or wrong, and 429s once the daily budget is spent.

``group_by`` (or pyalex's ``group-by``) answers as OpenAlex does: ``results`` empty,
``group_by: [{key, key_display_name, count}]`` (entity keys are full OpenAlex ids,
``https://openalex.org/T11636``, ``.../subfields/2604``, ``.../countries/CN``; raw values
otherwise), ``meta.count`` the matching works and ``meta.groups_count`` the groups of the
page (null when none). Without a cursor the 200 largest groups come back; with one, pages of
``per-page`` groups sorted by key, with the same ``next_cursor`` rule as lists.
``FIELD:include_unknown`` adds the ``unknown`` group.

Fault switches (``Faults``, changeable while running): a share of requests answered
429 (with ``Retry-After``) or 500, a latency range per request, a share of bodies cut
short. A ``PageGate`` (``gate_pages``) counts the list pages served and can hold every
further one until it is released, so a test interrupts a client at a chosen point of its
progress, never at a moment guessed from the clock.

In-process: ``with MockOpenAlexServer(MockData.from_world(world)) as server: server.url``.
Standalone: ``python -m selection.openalex.mockserver --shared-data ../shared/data --synthetic 60000``.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

COST_PER_LIST_REQUEST_USD = 0.0001
DAILY_BUDGET_USD = 1.0
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 25
_KNOWN_PARAMETERS = {
    "filter", "select", "per-page", "per_page", "cursor", "page", "api_key", "mailto", "sort", "group_by", "group-by",
}
OPENALEX_PREFIX = "https://openalex.org/"
UNKNOWN_GROUP = "unknown"
# Filters whose values compare as numbers with ``>`` and ``<``.
_NUMERIC_FILTERS = {"publication_year", "cited_by_count"}


def _short(openalex_id) -> str:
    """Lower-case short id of a full or short OpenAlex id (filter values compare this way)."""
    return str(openalex_id).rsplit("/", 1)[-1].lower()


def _flag(value) -> list[str]:
    return ["true" if value else "false"]


def _source(work: dict) -> dict:
    return (work.get("primary_location") or {}).get("source") or {}


def _institutions(work: dict):
    for authorship in work.get("authorships") or []:
        yield from authorship.get("institutions") or []


def _topic(work: dict, level: str | None = None) -> dict:
    """The primary topic (``level`` None) or its subfield, field or domain; {} when absent."""
    topic = work.get("primary_topic") or {}
    return (topic.get(level) or {}) if level else topic


def _countries(work: dict) -> list[str]:
    """Distinct upper-case country codes of the work's authorships, sorted."""
    return sorted({str(c).upper() for a in work.get("authorships") or [] for c in a.get("countries") or [] if c})


def _full_id(openalex_id, kind: str = "") -> str:
    """``T11636`` or a full id -> ``https://openalex.org/T11636`` (``kind`` e.g. ``subfields/``)."""
    text = str(openalex_id)
    return text if text.startswith("https://") else f"{OPENALEX_PREFIX}{kind}{text}"


def _entity_group(entity: dict, kind: str = "") -> list[tuple[str, str]]:
    if not entity.get("id"):
        return []
    return [(_full_id(entity["id"], kind), str(entity.get("display_name") or _short(entity["id"])))]


def _raw_group(value) -> list[tuple[str, str]]:
    return [] if value is None else [(str(value), str(value))]


# Filter name -> the values a record has for it (lower-case strings); equality filters.
_WORK_FILTERS = {
    "openalex": lambda w: [_short(w["id"])],
    "ids.openalex": lambda w: [_short(w["id"])],
    "publication_year": lambda w: [str(w.get("publication_year"))],
    "type": lambda w: [str(w.get("type")).lower()],
    "is_retracted": lambda w: _flag(w.get("is_retracted")),
    "is_paratext": lambda w: _flag(w.get("is_paratext")),
    "primary_location.source.id": lambda w: [_short(_source(w)["id"])] if _source(w).get("id") else [],
    "primary_location.source.type": lambda w: [str(_source(w).get("type")).lower()] if _source(w) else [],
    "primary_location.source.has_issn": lambda w: _flag(_source(w).get("issn_l") or _source(w).get("issn")),
    "authorships.author.id": lambda w: [
        _short(a["author"]["id"]) for a in w.get("authorships") or [] if (a.get("author") or {}).get("id")
    ],
    "authorships.institutions.id": lambda w: [_short(i["id"]) for i in _institutions(w) if i.get("id")],
    "institutions.id": lambda w: [_short(i["id"]) for i in _institutions(w) if i.get("id")],
    "authorships.institutions.lineage": lambda w: [_short(x) for i in _institutions(w) for x in i.get("lineage") or []],
    "authorships.institutions.country_code": lambda w: [
        str(i.get("country_code")).lower() for i in _institutions(w) if i.get("country_code")
    ],
    "authorships.countries": lambda w: [c.lower() for c in _countries(w)],
    "cites": lambda w: [_short(r) for r in w.get("referenced_works") or []],
    "cited_by_count": lambda w: [str(int(w.get("cited_by_count") or 0))],
    "primary_topic.id": lambda w: [_short(_topic(w)["id"])] if _topic(w).get("id") else [],
    **{
        f"primary_topic.{level}.id": (lambda w, level=level: [_short(_topic(w, level)["id"])] if _topic(w, level).get("id") else [])
        for level in ("subfield", "field", "domain")
    },
}
# group_by name -> the (key, key_display_name) groups a record belongs to.
_WORK_GROUPS = {
    "publication_year": lambda w: _raw_group(w.get("publication_year")),
    "type": lambda w: _raw_group(w.get("type")),
    "cited_by_count": lambda w: _raw_group(int(w.get("cited_by_count") or 0)),
    "primary_location.source.id": lambda w: _entity_group(_source(w)),
    "authorships.countries": lambda w: [(f"{OPENALEX_PREFIX}countries/{c}", c) for c in _countries(w)],
    "primary_topic.id": lambda w: _entity_group(_topic(w)),
    **{
        f"primary_topic.{level}.id": (lambda w, level=level: _entity_group(_topic(w, level), f"{level}s/"))
        for level in ("subfield", "field", "domain")
    },
}
_INSTITUTION_FILTERS = {
    "openalex": lambda r: [_short(r["id"])],
    "ids.openalex": lambda r: [_short(r["id"])],
    "country_code": lambda r: [str(r.get("country_code")).lower()],
    "type": lambda r: [str(r.get("type")).lower()],
    "lineage": lambda r: [_short(x) for x in r.get("lineage") or []],
}
_SOURCE_FILTERS = {
    "openalex": lambda r: [_short(r["id"])],
    "ids.openalex": lambda r: [_short(r["id"])],
    "country_code": lambda r: [str(r.get("country_code")).lower()],
    "type": lambda r: [str(r.get("type")).lower()],
    "issn": lambda r: [str(x).lower() for x in r.get("issn") or []],
}


def _publication_date(work: dict) -> str:
    return work.get("publication_date") or f"{work.get('publication_year') or 0:04d}-01-01"


# Filters on ranges, applied record by record to what the equality filters left.
_WORK_RANGE_FILTERS = {
    "from_publication_date": lambda w, v: _publication_date(w) >= v,
    "to_publication_date": lambda w, v: _publication_date(w) <= v,
}


class QueryRejected(Exception):
    """A request the server answers with an error status and OpenAlex-style JSON."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


class _Collection:
    """One entity type's records, sorted by id, with an inverted index per filter."""

    def __init__(
        self, name: str, records: list[dict], filters: dict, range_filters: dict | None = None, groups: dict | None = None
    ):
        self.name = name
        self.records = sorted(records, key=lambda r: _short(r["id"]))
        self.by_id = {_short(r["id"]): r for r in self.records}
        self.filters = filters
        self.range_filters = range_filters or {}
        self.groups = groups or {}
        self._group_values: dict[str, list[list[tuple[str, str]]]] = {}
        self.fields = set().union(*(r.keys() for r in self.records)) if self.records else {"id"}
        self.index: dict[str, dict[str, list[int]]] = {key: {} for key in filters}
        for position, record in enumerate(self.records):
            for key, values_of in filters.items():
                for value in set(values_of(record)):
                    self.index[key].setdefault(value, []).append(position)
        self._matches: dict[str, list[int]] = {}
        self._encoded: dict[tuple, dict[int, bytes]] = {}
        self._lock = threading.Lock()

    def matching(self, filter_text: str) -> list[int]:
        """Positions of the records that pass ``filter_text``, in id order (cached)."""
        with self._lock:
            cached = self._matches.get(filter_text)
        if cached is not None:
            return cached
        candidates = set(range(len(self.records)))
        for key, raw in _parse_filter(filter_text):
            negate = raw.startswith("!")
            values = raw[1:] if negate else raw
            if key in self.range_filters:
                test = self.range_filters[key]
                candidates = {p for p in candidates if test(self.records[p], values) != negate}
            elif key in self.index:
                candidates = self._apply_equality(candidates, key, values, negate)
            else:
                valid = ", ".join(sorted([*self.filters, *self.range_filters]))
                raise QueryRejected(
                    400,
                    "Invalid query parameters error.",
                    f"{key} is not a valid field. Valid fields are: {valid}",
                )
        result = sorted(candidates)
        with self._lock:
            if len(self._matches) > 4096:
                self._matches.clear()
            self._matches[filter_text] = result
        return result

    def _apply_equality(self, candidates: set[int], key: str, values: str, negate: bool) -> set[int]:
        index = self.index[key]
        alternatives = [_short(v) for v in values.split("|")]
        if any(a[:1] in "<>" and a[1:] for a in alternatives):
            if len(alternatives) > 1 or key not in _NUMERIC_FILTERS:
                raise QueryRejected(400, "Invalid query parameters error.", f"invalid comparison in {key}:{values}")
            limit = _int_value(key, alternatives[0][1:])
            above = alternatives[0][0] == ">"
            matched = {
                p for value, ps in index.items() if value.lstrip("-").isdigit()
                and (int(value) > limit if above else int(value) < limit) for p in ps
            }
        else:
            if key in _NUMERIC_FILTERS:
                for a in alternatives:
                    _int_value(key, a)
            matched = set()
            for alternative in alternatives:
                matched.update(index.get(alternative, ()))
        return candidates - matched if negate else candidates & matched

    def grouped(self, positions: list[int], group_text: str) -> list[dict]:
        """The groups of the records at ``positions`` for ``group_text`` (``FIELD`` or
        ``FIELD:include_unknown``): ``{key, key_display_name, count}``, each record once per key."""
        name, _, option = group_text.partition(":")
        if name not in self.groups or option not in ("", "include_unknown"):
            valid = ", ".join(sorted(self.groups))
            raise QueryRejected(
                400, "Invalid query parameters error.", f"{group_text} is not a valid group_by field. Valid fields are: {valid}"
            )
        with self._lock:
            values = self._group_values.get(name)
        if values is None:
            values = [self.groups[name](record) for record in self.records]
            with self._lock:
                self._group_values[name] = values
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        for position in positions:
            groups = dict(values[position])
            if not groups and option:
                groups = {UNKNOWN_GROUP: UNKNOWN_GROUP}
            for key, display_name in groups.items():
                counts[key] = counts.get(key, 0) + 1
                names.setdefault(key, display_name)
        return [{"key": key, "key_display_name": names[key], "count": count} for key, count in counts.items()]

    def encoded(self, position: int, select: tuple[str, ...] | None) -> bytes:
        """The record as compact JSON bytes, projected on ``select`` (cached)."""
        cache = self._encoded.setdefault(select, {})
        body = cache.get(position)
        if body is None:
            record = self.records[position]
            if select is not None:
                record = {k: record[k] for k in select if k in record}
            body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
            cache[position] = body
        return body

    def check_select(self, select_text: str | None) -> tuple[str, ...] | None:
        """The selected top-level fields, or a 400 for one the records do not have."""
        if not select_text:
            return None
        names = tuple(name.strip() for name in select_text.split(",") if name.strip())
        unknown = [name for name in names if name not in self.fields]
        if unknown:
            raise QueryRejected(
                400,
                "Invalid query parameters error.",
                f"{', '.join(unknown)} is not a valid select field. Valid fields are: {', '.join(sorted(self.fields))}",
            )
        return names


def _int_value(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise QueryRejected(400, "Invalid query parameters error.", f"Invalid filter: {key}:{value}") from None


def _parse_filter(filter_text: str):
    for clause in filter_text.split(","):
        if not clause:
            continue
        key, sep, value = clause.partition(":")
        if not sep:
            raise QueryRejected(400, "Invalid query parameters error.", f"Invalid filter {clause!r}: use key:value")
        yield key.strip(), value.strip()


class MockData:
    """The records a mock server serves: works, institutions and sources."""

    def __init__(self, works: list[dict], institutions: list[dict], sources: list[dict]):
        works = _unique(works)
        self.works = _Collection("works", works, _WORK_FILTERS, _WORK_RANGE_FILTERS, _WORK_GROUPS)
        # Full records first; the summaries embedded in works only fill the gaps.
        institutions = _unique([*institutions, *_embedded_institutions(works)])
        self.institutions = _Collection("institutions", institutions, _INSTITUTION_FILTERS)
        self.sources = _Collection("sources", _unique([*sources, *_embedded_sources(works)]), _SOURCE_FILTERS)

    @classmethod
    def from_shared_data(cls, shared_data: str | Path, extra: MockData | None = None) -> MockData:
        """The real records of ``shared_data/openalex`` (plus another data set's records)."""
        openalex = Path(shared_data) / "openalex"
        works = [
            *_read_jsonl_gz(openalex / "works" / "rag_sample_works.jsonl.gz"),
            *_read_jsonl_gz(openalex / "works" / "openalexpro_works.jsonl.gz"),
        ]
        entities = {p.stem: json.loads(p.read_text()) for p in sorted((openalex / "entities").glob("*.json"))}
        works += [e for k, e in entities.items() if k.startswith("W")]
        institutions = _read_jsonl_gz(openalex / "institutions" / "rag_sample_institutions.jsonl.gz")
        institutions += [e for k, e in entities.items() if k.startswith("I")]
        sources = [e for k, e in entities.items() if k.startswith("S")]
        if extra is not None:
            works += extra.works.records
            institutions += extra.institutions.records
            sources += extra.sources.records
        return cls(works, institutions, sources)

    @classmethod
    def from_world(cls, world) -> MockData:
        """A synthetic world (``selection.synthetic.generate_world``)."""
        return cls(list(world.works), list(world.institutions), list(world.sources))

    def collection(self, name: str) -> _Collection | None:
        """The collection behind a URL path segment, or None."""
        return {"works": self.works, "institutions": self.institutions, "sources": self.sources}.get(name)


def _unique(records: list[dict]) -> list[dict]:
    seen = {}
    for record in records:
        seen.setdefault(_short(record["id"]), record)
    return list(seen.values())


def _embedded_institutions(works: list[dict]) -> list[dict]:
    keys = ("id", "display_name", "ror", "country_code", "type", "lineage")
    return [{k: i.get(k) for k in keys} for w in works for i in _institutions(w) if i.get("id")]


def _embedded_sources(works: list[dict]) -> list[dict]:
    keys = ("id", "display_name", "issn_l", "issn", "type", "host_organization")
    found = [{k: _source(w).get(k) for k in keys} for w in works if _source(w).get("id")]
    for source in found:
        source["country_code"] = None
    return found


def _read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Faults:
    """What the server does wrong; all shares are per request, between 0 and 1."""

    failure_rate: float = 0.0  # answered 429 or 500 instead of the page
    share_429: float = 0.5  # of those failures, how many are 429 (the rest 500)
    retry_after: float | None = 0.0  # Retry-After seconds sent with a 429; None sends none
    truncate_rate: float = 0.0  # 200 responses whose body is cut short
    latency: tuple[float, float] = (0.0, 0.0)  # seconds slept before answering, uniform
    slow_seconds: float = 1.0  # extra wait of a "slow" scripted request
    # Faults for the next requests, in order ("429", "500", "truncate", "slow" or None),
    # before the random ones: for tests that need an exact sequence.
    script: list = field(default_factory=list)


class PageGate:
    """Counts the list pages of one collection the server serves and, once ``pages`` of them
    have been served, holds every further one until ``release`` (``pages=None``: only count).

    With ``mailto`` only the requests that carry this contact address count and wait, so a
    gate belongs to one client: a request another client sent before it died (still in
    the server's latency sleep) neither counts nor waits.
    A client that needs more pages than ``pages`` cannot finish while the gate is closed,
    however fast or slow the machine is.
    """

    def __init__(self, collection: str, pages: int | None, mailto: str | None = None):
        self.collection = collection
        self.pages = pages
        self.mailto = mailto
        self.served = 0
        self.held = 0
        self._released = pages is None
        self._changed = threading.Condition()

    def applies_to(self, collection: str, mailto: str | None) -> bool:
        """Whether a list request of ``collection`` sent with ``mailto`` passes this gate."""
        return collection == self.collection and self.mailto in (None, mailto)

    def admit(self) -> None:
        """Called for each list request of the collection: wait while the gate is closed, then count it."""
        with self._changed:
            self.held += 1
            while not self._released and self.served >= self.pages:
                self._changed.wait()
            self.held -= 1
            self.served += 1
            self._changed.notify_all()

    def wait_until_served(self, pages: int, timeout: float) -> bool:
        """Whether ``pages`` pages have been served, waiting at most ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.served >= pages, timeout=timeout)

    def release(self) -> None:
        """Let every held and later request through."""
        with self._changed:
            self._released = True
            self._changed.notify_all()


class MockOpenAlexServer:
    """A threaded OpenAlex-compatible server on 127.0.0.1 with an ephemeral port.

    ``faults`` may be replaced while the server runs; ``requests`` counts what it answered
    (by status) and ``request_times`` when each request arrived; ``gate`` (see
    ``gate_pages``) counts and holds list pages.
    """

    def __init__(
        self,
        data: MockData,
        faults: Faults | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        daily_budget_usd: float = DAILY_BUDGET_USD,
    ):
        self.data = data
        self.faults = faults or Faults()
        self.api_key = api_key
        self.daily_budget_usd = daily_budget_usd
        self.spent_usd = 0.0
        self.requests: dict[int, int] = {}
        self.request_times: list[float] = []
        self.gate: PageGate | None = None
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give a client, ``http://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MockOpenAlexServer:
        """Serve in a background thread; returns self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mock-openalex", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.remove_gate()
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop`` (from another thread or a signal)."""
        self._httpd.serve_forever()

    def __enter__(self) -> MockOpenAlexServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def gate_pages(self, pages: int | None, collection: str = "works", mailto: str | None = None) -> PageGate:
        """Install a new ``PageGate`` on the list pages of ``collection`` (releasing the previous one)."""
        self.remove_gate()
        self.gate = PageGate(collection, pages, mailto)
        return self.gate

    def remove_gate(self) -> None:
        """Release the gate, if any, and serve without one."""
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.release()

    def total_requests(self) -> int:
        """How many requests the server answered, whatever their status."""
        with self._lock:
            return sum(self.requests.values())

    def _draw(self) -> tuple[str | None, float]:
        """Which fault this request gets (None, "429", "500", "truncate") and its latency."""
        faults = self.faults
        with self._lock:
            self.request_times.append(time.monotonic())
            latency = self._random.uniform(*faults.latency) if faults.latency[1] > 0 else 0.0
            if faults.script:
                return faults.script.pop(0), latency
            if self._random.random() < faults.failure_rate:
                return ("429" if self._random.random() < faults.share_429 else "500"), latency
            if self._random.random() < faults.truncate_rate:
                return "truncate", latency
        return None, latency

    def coin(self) -> bool:
        """A fair coin from the server's seeded generator."""
        with self._lock:
            return self._random.random() < 0.5

    def _count(self, status: int) -> None:
        with self._lock:
            self.requests[status] = self.requests.get(status, 0) + 1

    def respond(self, path: str, query: dict[str, list[str]], headers) -> tuple[int, dict, bytes, str | None]:
        """Status, headers, body and fault for one GET; also used directly by tests."""
        fault, latency = self._draw()
        if fault == "slow":
            latency += self.faults.slow_seconds
        if latency:
            time.sleep(latency)
        if self.api_key is not None and self.api_key not in _keys_sent(query, headers):
            return 401, {}, _error_body("Invalid API key", "Pass a valid api_key (get one at openalex.org/settings/api)."), None
        if fault == "429":
            retry_after = {} if self.faults.retry_after is None else {"Retry-After": f"{self.faults.retry_after:g}"}
            return 429, retry_after, _error_body("Rate limit exceeded", "Too many requests; slow down."), None
        if fault == "500":
            return 500, {}, _error_body("Internal server error", "Please try again."), None
        with self._lock:
            within_budget = self.spent_usd + COST_PER_LIST_REQUEST_USD <= self.daily_budget_usd + 1e-12
            if within_budget:
                self.spent_usd += COST_PER_LIST_REQUEST_USD
            limit_headers = {
                "X-RateLimit-Limit-USD": f"{self.daily_budget_usd:g}",
                "X-RateLimit-Remaining-USD": f"{max(0.0, self.daily_budget_usd - self.spent_usd):.4f}",
                "X-RateLimit-Cost-USD": f"{COST_PER_LIST_REQUEST_USD if within_budget else 0:g}",
            }
        if not within_budget:
            return 429, limit_headers, _error_body("Rate limit exceeded", "Daily budget exhausted."), None
        try:
            body = self._body(path, query)
        except QueryRejected as rejected:
            return rejected.status, {}, _error_body(rejected.error, rejected.message), None
        return 200, limit_headers, body, fault

    def _body(self, path: str, query: dict[str, list[str]]) -> bytes:
        unknown = sorted(set(query) - _KNOWN_PARAMETERS)
        if unknown:
            raise QueryRejected(400, "Invalid query parameters error.", f"{unknown[0]} is not a valid parameter")
        parts = [p for p in path.split("/") if p]
        collection = self.data.collection(parts[0]) if parts else None
        if collection is None or len(parts) > 2:
            raise QueryRejected(404, "Not found", f"{path} is not an endpoint of this server")
        select = collection.check_select(_single(query, "select"))
        if len(parts) == 2:
            record = collection.by_id.get(_short(parts[1]))
            if record is None:
                raise QueryRejected(404, "Not found", f"{parts[1]} not found")
            return collection.encoded(collection.records.index(record), select)
        gate = self.gate
        if gate is not None and gate.applies_to(collection.name, _single(query, "mailto")):
            gate.admit()
        return self._list_body(collection, query, select)

    def _list_body(self, collection: _Collection, query: dict, select: tuple | None) -> bytes:
        started = time.perf_counter()
        per_page = _per_page(query)
        matches = collection.matching(_single(query, "filter") or "")
        group_text = _single(query, "group_by") or _single(query, "group-by")
        if group_text:
            return self._group_body(collection, matches, group_text, query, per_page, started)
        cursor = _single(query, "cursor")
        if cursor is not None:
            offset = _decode_cursor(cursor)
            page_number = None
        else:
            page_number = _positive_int("page", _single(query, "page") or "1")
            offset = (page_number - 1) * per_page
        chosen = matches[offset : offset + per_page]
        next_cursor = _encode_cursor(offset + per_page) if cursor is not None and chosen else None
        meta = {
            "count": len(matches),
            "db_response_time_ms": int((time.perf_counter() - started) * 1000),
            "page": page_number,
            "per_page": per_page,
            "next_cursor": next_cursor,
            "groups_count": None,
            "cost_usd": COST_PER_LIST_REQUEST_USD,
        }
        results = b",".join(collection.encoded(p, select) for p in chosen)
        return b'{"meta":' + json.dumps(meta).encode() + b',"results":[' + results + b'],"group_by":[]}'

    def _group_body(
        self, collection: _Collection, matches: list[int], group_text: str, query: dict, per_page: int, started: float
    ) -> bytes:
        """A group_by answer: the 200 largest groups, or with a cursor pages of groups sorted by key."""
        groups = collection.grouped(matches, group_text)
        cursor = _single(query, "cursor")
        next_cursor = None
        if cursor is None:
            chosen = sorted(groups, key=lambda g: (-g["count"], g["key"]))[:MAX_PER_PAGE]
        else:
            offset = _decode_cursor(cursor)
            chosen = sorted(groups, key=lambda g: g["key"])[offset : offset + per_page]
            next_cursor = _encode_cursor(offset + per_page) if chosen else None
        meta = {
            "count": len(matches),
            "db_response_time_ms": int((time.perf_counter() - started) * 1000),
            "page": None if cursor is not None else 1,
            "per_page": per_page,
            "next_cursor": next_cursor,
            "groups_count": len(chosen) or None,
            "cost_usd": COST_PER_LIST_REQUEST_USD,
        }
        return json.dumps({"meta": meta, "results": [], "group_by": chosen}, ensure_ascii=False).encode()


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _per_page(query: dict[str, list[str]]) -> int:
    text = _single(query, "per-page") or _single(query, "per_page")
    if text is None:
        return DEFAULT_PER_PAGE
    value = _positive_int("per-page", text)
    if value > MAX_PER_PAGE:
        raise QueryRejected(400, "Invalid query parameters error.", f"per-page must be between 1 and {MAX_PER_PAGE}")
    return value


def _positive_int(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise QueryRejected(400, "Invalid query parameters error.", f"{name} must be a positive integer")
    return value


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    if cursor == "*":
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        label, _, number = text.partition(":")
        if label == "offset":
            return int(number)
    except ValueError:
        pass
    raise QueryRejected(400, "Invalid query parameters error.", f"cursor {cursor!r} is not valid")


def _keys_sent(query: dict[str, list[str]], headers) -> set[str]:
    keys = set(query.get("api_key", []))
    authorization = headers.get("Authorization") or ""
    if authorization.startswith("Bearer "):
        keys.add(authorization[len("Bearer ") :])
    return keys


def _error_body(error: str, message: str) -> bytes:
    return json.dumps({"error": error, "message": message}).encode()


class _QuietServer(ThreadingHTTPServer):
    """Threads per connection; a client hanging up mid-request is not an error here."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _make_handler(server: MockOpenAlexServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for
        # the client's delayed ACK (40 ms a request on Linux).
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            status, headers, body, fault = server.respond(parts.path, query, self.headers)
            server._count(status)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            if fault == "truncate":
                self._send_truncated(body)
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_truncated(self, body: bytes) -> None:
            # Half the time the declared length is honest about the cut (broken JSON),
            # half the time the connection drops before the declared length (short read).
            cut = body[: max(1, len(body) // 2)]
            honest = server.coin()
            self.send_header("Content-Length", str(len(cut) if honest else len(body)))
            self.end_headers()
            self.wfile.write(cut)
            self.close_connection = True

        def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
            pass

    return Handler


def build_parser() -> argparse.ArgumentParser:
    """The options of ``python -m selection.openalex.mockserver``."""
    parser = argparse.ArgumentParser(prog="python -m selection.openalex.mockserver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared-data", type=Path, help="folder holding openalex/ with the real records")
    parser.add_argument("--synthetic", type=int, default=0, help="also serve a synthetic world of N works")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic world and of the faults")
    parser.add_argument("--from-year", type=int, default=2021)
    parser.add_argument("--to-year", type=int, default=2025)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", help="require this API key")
    parser.add_argument("--daily-budget", type=float, default=DAILY_BUDGET_USD, help="USD a day, then 429s")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of requests answered 429 or 500")
    parser.add_argument("--retry-after", type=float, default=0.0, help="Retry-After seconds on a 429")
    parser.add_argument("--truncate-rate", type=float, default=0.0, help="share of bodies cut short")
    parser.add_argument("--latency", type=float, nargs=2, default=(0.0, 0.0), metavar=("MIN", "MAX"), help="seconds per request")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m selection.openalex.mockserver``: serve until interrupted; prints the URL first."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.shared_data is None and not args.synthetic:
        parser.error("give --shared-data, --synthetic N or both")

    world_data = None
    if args.synthetic:
        from selection.synthetic import generate_world

        world = generate_world(args.synthetic, seed=args.seed, from_year=args.from_year, to_year=args.to_year)
        world_data = MockData.from_world(world)
    data = MockData.from_shared_data(args.shared_data, extra=world_data) if args.shared_data else world_data
    faults = Faults(
        failure_rate=args.failure_rate,
        retry_after=args.retry_after,
        truncate_rate=args.truncate_rate,
        latency=tuple(args.latency),
    )
    server = MockOpenAlexServer(
        data, faults=faults, api_key=args.api_key, port=args.port, seed=args.seed, daily_budget_usd=args.daily_budget
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    print(f"serving on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
