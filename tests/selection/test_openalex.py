"""pyalex on our transport: base URL, identity, retries, errors, paging, rate limit."""

from __future__ import annotations

import argparse
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from selection.errors import SelectionError
from selection.harvest.partitions import Partition, works_query
from selection.openalex.client import (
    DEFAULT_RATE,
    OpenAlexAuthError,
    OpenAlexClient,
    OpenAlexQueryError,
    OpenAlexUnavailable,
    RetryPolicy,
    add_connection_arguments,
    client_from_args,
)
from selection.openalex.mockserver import MockOpenAlexServer
from selection.schema import short_id

FAST_RETRY = RetryPolicy(max_retries=4, backoff=0.01, backoff_cap=0.05)


def client_for(server, **kwargs) -> OpenAlexClient:
    kwargs.setdefault("rate", 500)
    kwargs.setdefault("retry", FAST_RETRY)
    return OpenAlexClient(server.url, **kwargs)


def test_urls_move_to_the_base_url_with_its_path():
    client = OpenAlexClient("http://mirror.example:8080/openalex/")
    url = client.works().filter(publication_year=2021).url
    assert url == "http://mirror.example:8080/openalex/works?filter=publication_year:2021"


def test_default_base_url_is_openalex():
    assert OpenAlexClient().works().url == "https://api.openalex.org/works"


def test_base_url_must_be_http():
    with pytest.raises(Exception, match="--base-url"):
        OpenAlexClient("ftp://example.org")


def test_harvest_query_ors_the_institution_batch_and_ands_the_rules():
    client = OpenAlexClient("http://localhost:1")
    query = works_query(client, ["I1", "I2", "I3"], Partition(2022, 0, "2022-01-01", "2022-06-30"))
    filters = parse_qs(urlsplit(query.url).query)["filter"][0].split(",")
    assert filters == [
        "authorships.institutions.id:I1|I2|I3",
        "type:article|review",
        "publication_year:2022",
        "from_publication_date:2022-01-01",
        "to_publication_date:2022-06-30",
        "primary_location.source.type:journal",
        "primary_location.source.has_issn:true",
        "is_retracted:false",
        "is_paratext:false",
    ]


def test_key_and_mailto_reach_the_server(mock_server):
    mock_server.api_key = "secret"
    client = client_for(mock_server, api_key="secret", mailto="staff@example.org")
    assert client.works().get(per_page=1).meta["count"] > 0


def test_bad_key_is_one_clear_error(mock_server):
    mock_server.api_key = "secret"
    with pytest.raises(OpenAlexAuthError, match="--api-key or OPENALEX_API_KEY"):
        client_for(mock_server, api_key="wrong").works().get()


def test_unknown_filter_is_a_query_error_with_the_server_message(mock_server):
    with pytest.raises(OpenAlexQueryError, match="author_name is not a valid field"):
        client_for(mock_server).works().filter(author_name="x").get()


def test_unreachable_server_fails_fast_naming_the_option():
    client = OpenAlexClient("http://127.0.0.1:9", retry=RetryPolicy(backoff=0.01))
    started = time.monotonic()
    with pytest.raises(OpenAlexUnavailable, match="--base-url"):
        client.works().get()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("fault", ["429", "500", "truncate"])
def test_a_failed_attempt_is_retried_over_http(mock_server, fault):
    mock_server.faults.script = [fault]
    client = client_for(mock_server)
    listing = client.works().get(per_page=5)
    assert len(listing) == 5
    assert listing.page.attempts == 2
    assert client.stats.retries == 1


def test_a_timeout_is_retried(mock_server):
    mock_server.faults.script = ["slow"]
    mock_server.faults.slow_seconds = 1.0
    client = client_for(mock_server, timeout=(2.0, 0.3))
    assert len(client.works().get(per_page=2)) == 2
    assert client.stats.failures == {"timeout": 1}


def test_retry_after_is_honoured_by_all_threads(mock_server):
    mock_server.faults.script = ["429"]
    mock_server.faults.retry_after = 0.6
    client = client_for(mock_server)
    started = time.monotonic()
    client.works().get(per_page=1)
    assert time.monotonic() - started >= 0.6
    assert client.stats.failures == {"HTTP 429": 1}

    # Another thread's request during the wait is held back too.
    mock_server.faults.script = ["429"]
    first = threading.Thread(target=lambda: client.works().get(per_page=1))
    started = time.monotonic()
    first.start()
    time.sleep(0.2)
    client.works().get(per_page=1)
    second_done = time.monotonic() - started
    first.join()
    assert second_done >= 0.6


def test_a_429_without_retry_after_backs_off_more_each_time(mock_server):
    mock_server.faults.script = ["429", "429", "429"]
    mock_server.faults.retry_after = None
    client = client_for(mock_server, retry=RetryPolicy(max_retries=4, backoff=0.1, backoff_cap=1.0))
    started = time.monotonic()
    client.works().get(per_page=1)
    # Jittered waits of at least 0.05, 0.1 and 0.2 s: more than three first-attempt waits (<= 0.3 s).
    assert time.monotonic() - started >= 0.35
    assert client.stats.failures == {"HTTP 429": 3}


def test_a_very_long_retry_after_stops_the_run(mock_server):
    mock_server.faults.script = ["429"]
    mock_server.faults.retry_after = 3600
    with pytest.raises(OpenAlexUnavailable, match="--resume"):
        client_for(mock_server).works().get()


def test_a_spent_daily_budget_stops_at_once(mock_data):
    with MockOpenAlexServer(mock_data, daily_budget_usd=0.0002) as server:
        client = client_for(server)
        client.works().get(per_page=1)
        client.works().get(per_page=1)
        with pytest.raises(OpenAlexUnavailable, match="daily OpenAlex budget .* --resume"):
            client.works().get(per_page=1)
    assert client.stats.requests == 3
    assert client.stats.rate_limit_headers["X-RateLimit-Remaining-USD"] == "0.0000"


def test_persistent_failures_stop_after_the_retry_limit(mock_server):
    client = client_for(mock_server)
    client.works().get(per_page=1)  # the server has answered once: not "unreachable"
    mock_server.faults.failure_rate = 1.0
    mock_server.faults.share_429 = 0.0
    with pytest.raises(OpenAlexUnavailable, match="kept failing .*--resume"):
        client.works().get()
    assert client.stats.retries == FAST_RETRY.max_retries


def test_cursor_paging_goes_past_pyalex_default_limit_and_counts_credits(mock_server):
    client = client_for(mock_server)
    query = client.works().filter(publication_year=2023).select(["id"])
    expected = query.count()
    seen = [w["id"] for page in query.paginate(per_page=7, n_max=None) for w in page]
    assert len(seen) == len(set(seen)) == expected
    assert client.stats.cost_usd > 0
    assert "X-RateLimit-Remaining-USD" in client.stats.rate_limit_headers


def test_rate_limit_applies_to_every_attempt(mock_server):
    client = client_for(mock_server, rate=20)
    mock_server.faults.script = ["500", "500"]
    started = time.monotonic()
    for _ in range(3):
        client.works().get(per_page=1)
    # 5 attempts at 20/s: at least 4 intervals of 50 ms.
    assert time.monotonic() - started >= 0.2


def test_the_real_api_is_not_called_without_a_key(monkeypatch):
    monkeypatch.delenv("OPENALEX_API_KEY", raising=False)
    monkeypatch.delenv("OPENALEX_BASE_URL", raising=False)
    args = argparse.Namespace(base_url=None, api_key=None, mailto=None, rate=10.0, max_retries=3)
    with pytest.raises(SelectionError, match="--api-key or set OPENALEX_API_KEY"):
        client_from_args(args)
    monkeypatch.setenv("OPENALEX_API_KEY", "k")
    assert client_from_args(args).api_key == "k"


def connection_options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return parser.parse_args(["--base-url", "http://127.0.0.1:9", *argv])


def test_the_rate_comes_from_the_option_else_openalex_rate_limit_else_the_default(monkeypatch):
    monkeypatch.delenv("OPENALEX_RATE_LIMIT", raising=False)
    assert client_from_args(connection_options()).limiter.rate == DEFAULT_RATE
    monkeypatch.setenv("OPENALEX_RATE_LIMIT", "3.5")
    assert client_from_args(connection_options()).limiter.rate == 3.5
    assert client_from_args(connection_options("--rate", "7")).limiter.rate == 7.0


@pytest.mark.parametrize("value", ["fast", "0", "-2", "nan", "inf"])
def test_a_bad_openalex_rate_limit_is_one_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("OPENALEX_RATE_LIMIT", value)
    with pytest.raises(SelectionError, match="OPENALEX_RATE_LIMIT must be a positive number"):
        client_from_args(connection_options())
    assert client_from_args(connection_options("--rate", "2")).limiter.rate == 2.0  # the option wins


def test_short_id():
    assert short_id("https://openalex.org/w123") == "W123"
    assert short_id("I5") == "I5"
    assert short_id(None) is None
