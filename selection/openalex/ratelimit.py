"""One request-rate limit shared by every worker thread of a harvest.

A server that enforces "``rate`` requests a second" counts the requests that *arrive* in
any one-second window. Handing out evenly spaced start times (1/rate apart) is not
enough to stay under it: a thread that wakes a few milliseconds late, followed by one
that wakes on time, puts two requests closer than 1/rate, and at exactly the limit the
window then holds ``rate + 1`` requests and the server answers 429, whose
``Retry-After`` (whole seconds) stalls every thread. So the limiter does two things:

- it spaces start times 1/rate apart (a small burst allowed), callers waiting together
  going in order of their priority;
- it keeps the real start times of the last ``window_requests`` requests and lets a
  request start only once the oldest of them lies ``window + margin`` seconds back,
  checked after the sleep, on the clock, so late wakeups and catch-up cannot bunch
  requests. The margin covers the variation of the time from our start to the
  server's arrival stamp; a 429 the server still answers widens it a step.

A server's ``Retry-After`` holds every thread back at once through ``hold``.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import deque

DEFAULT_MARGIN = 0.1  # seconds added to the window (the limit stays at least 0.9 busy): covers the jitter
# between our clock and a server's arrival stamp seen locally (p99 63 ms, max 83 ms, benchmarks/harvest.py)
MARGIN_STEP = 0.025  # seconds a 429 adds to the margin (once a window: one burst of 429s is one event)
MAX_MARGIN_SHARE = 0.25  # a widened margin stops at a quarter of the window


class RateLimiter:
    """A thread-safe limiter: at most ``rate`` starts a second in any window, ``burst`` at once."""

    def __init__(self, rate: float, burst: int = 1, margin: float = DEFAULT_MARGIN, clock=time.monotonic,
                 sleep=time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if margin < 0:
            raise ValueError("margin must be 0 or more")
        self.rate = float(rate)
        self.burst = burst
        self.margin = float(margin)
        # A server counts whole requests per second: ``window_requests`` in ``window`` seconds.
        self.window_requests = max(1, math.floor(self.rate))
        self.window = self.window_requests / self.rate
        self.widened = 0  # how often a 429 widened the margin
        self._interval = 1.0 / self.rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._turns = threading.Condition(self._lock)
        self._waiting: list[tuple[float, int]] = []  # heap of the callers waiting: (-priority, arrival)
        self._tickets = itertools.count()
        # Generic cell rate algorithm: ``_due`` is when the next request would be due at the
        # steady rate; a request may start up to ``_tolerance`` seconds before it is due.
        self._tolerance = (burst - 1) * self._interval
        self._due = clock()
        self._held_until = -math.inf
        self._last_widened = -math.inf
        self._starts: deque[float] = deque(maxlen=self.window_requests)

    def acquire(self, priority: float = 0.0) -> float:
        """Block until this caller may send a request; returns the seconds waited.

        Callers waiting together go in order of ``priority`` (highest first, then in order
        of arrival): a harvest gives the longest cursor chains their turn first.
        """
        waited = 0.0
        with self._turns:
            ticket = (-priority, next(self._tickets))
            heapq.heappush(self._waiting, ticket)
            try:
                while True:
                    now = self._clock()
                    if self._waiting[0] != ticket:
                        self._turns.wait(timeout=self._interval)
                        waited += self._clock() - now
                        continue
                    opens = max(self._due - self._tolerance, self._window_opens())
                    if now >= opens:
                        # A start a little late (a sleep that overran) keeps the schedule;
                        # after idle time the schedule starts again from now.
                        late = now - self._due
                        self._due = (self._due if late <= self._interval / 2 else now) + self._interval
                        self._starts.append(now)
                        return waited
                    self._turns.release()
                    try:
                        self._sleep(opens - now)
                    finally:
                        self._turns.acquire()
                    waited += opens - now
            finally:
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._turns.notify_all()

    def _window_opens(self) -> float:
        """When the next request may start as far as the window and a hold go (lock held)."""
        opens = self._held_until
        if len(self._starts) == self.window_requests:
            opens = max(opens, self._starts[0] + self.window + self.margin)
        return opens

    def hold(self, seconds: float) -> None:
        """Let no request start for ``seconds`` from now (the server asked us to wait)."""
        with self._lock:
            now = self._clock()
            self._due = max(self._due, now + seconds + self._tolerance)
            self._held_until = max(self._held_until, now + seconds)

    def refused(self) -> None:
        """The server refused a request for its rate (429): widen the margin by ``MARGIN_STEP``,
        at most once a window (the requests in flight when the window overflowed are refused
        together) and to at most a quarter of the window."""
        with self._lock:
            now = self._clock()
            if now < self._last_widened + self.window:
                return
            self._last_widened = now
            widened = min(MAX_MARGIN_SHARE * self.window, self.margin + MARGIN_STEP)
            if widened > self.margin:
                self.margin = widened
                self.widened += 1

    def describe(self) -> dict:
        """The limiter's settings and state, for a manifest."""
        with self._lock:
            return {
                "rate": self.rate,
                "window_requests": self.window_requests,
                "window_seconds": round(self.window, 6),
                "margin_seconds": round(self.margin, 6),
                "margin_widened": self.widened,
            }
