"""Pacing against a server that enforces the rate, and progress that knows its total up front."""

from __future__ import annotations

import random

import pyarrow.parquet as pq
import pytest

from selection.harvest.run import harvest
from selection.harvest.scheduler import presplit_pieces
from selection.openalex.client import OpenAlexClient
from selection.openalex.mockserver import Faults
from selection.openalex.ratelimit import MARGIN_STEP, RateLimiter
from tests.selection.harvest_helpers import FAST_RETRY, eligible_ids, harvest_settings
from tests.selection.rate_enforcing import RateEnforcingServer
from tests.selection.test_ratelimit import FakeClock

RATE = 20  # requests a second, the client's limit and the server's alike


class LateClock(FakeClock):
    """A fake clock whose sleeps overrun by a random few milliseconds (a busy machine)."""

    def __init__(self, seed: int):
        super().__init__()
        self.random = random.Random(seed)

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.random.choice([0.0, 0.0, 0.004, 0.012])


def most_in_one_window(starts: list[float], window: float) -> int:
    """The most starts that fall within any window of ``window`` seconds."""
    starts = sorted(starts)
    return max(sum(1 for t in starts[i:] if t - start < window) for i, start in enumerate(starts))


def test_late_wakeups_never_put_more_than_the_rate_in_one_second():
    clock = LateClock(seed=11)
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(200):
        limiter.acquire()
        starts.append(clock.now)
    assert most_in_one_window(starts, 1.0) <= 10
    assert most_in_one_window(starts, 1.0 + limiter.margin - 1e-9) <= 10  # the margin is slack for the way there
    # ... and the limit stays busy: 200 starts take at most 200 / 10 x (1 + margin) + slack.
    assert starts[-1] - starts[0] <= 200 / 10 * (1 + limiter.margin) + 0.5


def test_a_refusal_widens_the_margin_a_step_once_a_window_up_to_a_quarter_of_it():
    clock = FakeClock()
    limiter = RateLimiter(10, margin=0.0, clock=clock, sleep=clock.sleep)
    limiter.refused()
    limiter.refused()  # the same overflow: requests refused together
    assert limiter.margin == pytest.approx(MARGIN_STEP) and limiter.widened == 1
    for _ in range(20):
        clock.now += 1.0
        limiter.refused()
    assert limiter.margin == pytest.approx(0.25)
    widened = limiter.describe()["margin_widened"]
    clock.now += 1.0
    limiter.refused()
    assert limiter.widened == widened < 20  # at the cap no refusal widens it further


def test_fewer_partitions_than_workers_are_cut_up_front():
    assert presplit_pieces(roots=5, workers=16) == 4
    assert presplit_pieces(roots=16, workers=16) == 1
    assert presplit_pieces(roots=60, workers=16) == 1


@pytest.fixture(scope="module")
def enforcing_server(mock_data):
    with RateEnforcingServer(mock_data, RATE, faults=Faults(latency=(0.05, 0.15)), daily_budget_usd=1000.0) as server:
        yield server


def test_a_small_harvest_at_the_servers_rate_draws_no_429(enforcing_server, harvest_inputs, tmp_path):
    client = OpenAlexClient(enforcing_server.url, rate=RATE, retry=FAST_RETRY, mailto="pacing@harvest.test")
    reports = []
    settings = harvest_settings(harvest_inputs, batch_size=50, split_above=10_000, workers=16)
    manifest = harvest(client, settings, tmp_path / "out", quiet=True, on_progress=reports.append)

    assert enforcing_server.refused("pacing@harvest.test") == 0
    assert "HTTP 429" not in manifest["requests"]["this_session"]["failures"]
    ids = set(pq.read_table(tmp_path / "out" / "works.parquet", columns=["work_id"])["work_id"].to_pylist())
    assert ids == eligible_ids(enforcing_server.data, harvest_inputs.beijing_ids)
    # Fewer year x batch partitions than workers: cut up front into date ranges.
    assert manifest["partitions"]["split"] > 0

    # The first progress report already carries the total, and it is the harvest's total.
    assert reports and reports[0].works_total == manifest["counts"]["harvested_records"]
    assert all(report.works_total == reports[0].works_total for report in reports)
    assert reports[0].eta_seconds is not None
    assert reports[-1].works_done == reports[-1].works_total and reports[-1].pages_left == 0
    assert manifest["progress"]["works_total"] == reports[0].works_total


class RecordingLimiter(RateLimiter):
    """A limiter that notes, at every turn, whether the thread's connection was already open."""

    def __init__(self, client_box: list):
        super().__init__(1000)
        self.client_box = client_box
        self.open_at_turn = []

    def acquire(self, priority: float = 0.0) -> float:
        adapter = self.client_box[0]._session().get_adapter("http://")
        pools = [adapter.poolmanager.pools[key] for key in adapter.poolmanager.pools.keys()]
        idle = [connection for pool in pools for connection in list(pool.pool.queue) if connection is not None]
        self.open_at_turn.append(any(connection.sock is not None for connection in idle))
        return super().acquire(priority)


def test_a_new_connection_is_opened_before_the_requests_turn(enforcing_server):
    """The TCP handshake and the server's accept lie before the limiter's clock, not between
    it and the server's arrival stamp (they delayed arrivals by up to 125 ms)."""
    box: list = []
    limiter = RecordingLimiter(box)
    client = OpenAlexClient(enforcing_server.url, limiter=limiter, retry=FAST_RETRY, mailto="connect@harvest.test")
    box.append(client)
    for _ in range(3):
        client.fetch(enforcing_server.url + "/works?per_page=1")
    assert limiter.open_at_turn == [True, True, True]


def test_first_pages_take_one_date_range_of_every_year_before_the_second_of_any():
    from selection.harvest.partitions import PartitionState
    from selection.harvest.scheduler import _interleaved

    states = {}
    for year in (2024, 2025):
        children = [f"y{year}-b000-r{piece}" for piece in range(3)]
        states[f"y{year}-b000"] = PartitionState(key=f"y{year}-b000", partition={}, status="split", children=children)
        states |= {key: PartitionState(key=key, partition={}) for key in children}
    leaves = sorted((state for state in states.values() if state.status != "split"), key=lambda state: state.key)
    assert [state.key for state in _interleaved(leaves, states)] == [
        "y2024-b000-r0", "y2025-b000-r0", "y2024-b000-r1", "y2025-b000-r1", "y2024-b000-r2", "y2025-b000-r2",
    ]
