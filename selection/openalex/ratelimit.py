"""One request-rate limit shared by every worker thread of a harvest.

The limiter hands out evenly spaced start times (1/rate apart, a small burst allowed),
so N threads together never exceed the rate however their requests interleave. A
server's ``Retry-After`` can hold every thread back at once through ``hold``.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """A thread-safe limiter: at most ``rate`` acquisitions a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int = 1, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = burst
        self._interval = 1.0 / self.rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # Generic cell rate algorithm: ``_due`` is when the next request would be due at the
        # steady rate; a request may start up to ``_tolerance`` seconds before it is due.
        self._tolerance = (burst - 1) * self._interval
        self._due = clock()

    def acquire(self) -> float:
        """Block until this caller may send a request; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._due - self._tolerance)
            self._due = max(self._due, start) + self._interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def hold(self, seconds: float) -> None:
        """Let no request start for ``seconds`` from now (the server asked us to wait)."""
        with self._lock:
            self._due = max(self._due, self._clock() + seconds + self._tolerance)
