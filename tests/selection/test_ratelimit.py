"""The shared rate limiter: evenly spaced starts, bursts, holds, many threads."""

from __future__ import annotations

import threading
import time

import pytest

from selection.openalex.ratelimit import RateLimiter


class FakeClock:
    """A clock that only moves when the limiter sleeps."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def starts(limiter: RateLimiter, clock: FakeClock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        limiter.acquire()
        times.append(round(clock.now - 100.0, 6))
    return times


def test_requests_are_spaced_one_interval_apart():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    assert starts(limiter, clock, 4) == [0.0, 0.1, 0.2, 0.3]


def test_burst_lets_the_first_requests_through_at_once():
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock, sleep=clock.sleep)
    assert starts(limiter, clock, 5) == [0.0, 0.0, 0.0, 0.1, 0.2]


def test_idle_time_is_not_saved_up_beyond_the_burst():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 5.0
    assert starts(limiter, clock, 3) == [5.0, 5.1, 5.2]


def test_hold_delays_every_following_request():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.hold(2.0)
    assert starts(limiter, clock, 2) == [2.0, 2.1]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(5, burst=0)


def test_threads_together_keep_the_rate():
    limiter = RateLimiter(200)
    times: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            limiter.acquire()
            with lock:
                times.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    # 80 starts at 200/s span at least 79 intervals, whatever the interleaving (the
    # exact spacing is checked with the fake clock above).
    assert times[-1] - times[0] >= 79 / 200 - 0.01
