"""The mock OpenAlex server enforcing a request rate, as OpenAlex does (for tests and benchmarks).

``RateEnforcingServer`` refuses, with 429 and a ``Retry-After`` of whole seconds, any
request that would make more than ``floor(rate)`` arrivals within one second (a
sliding window over arrival times, the strictest reading of "N requests a second";
refused requests do not count). A request arrives when its request line has been read. It logs every arrival with its status and ``mailto``
and answers ``GET /__arrivals?mailto=...`` with that client's log, so a benchmark can
read a server in another process.

Standalone: ``python -m tests.selection.rate_enforcing --enforce-rate 10 --synthetic 60000``.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections import deque

from selection.openalex.mockserver import Faults, MockData, MockOpenAlexServer, build_parser

ARRIVALS_PATH = "/__arrivals"


class RateEnforcingServer(MockOpenAlexServer):
    """``MockOpenAlexServer`` answering 429 above ``rate`` requests in any one-second window."""

    def __init__(self, data: MockData, rate: float, **options):
        super().__init__(data, **options)
        self.window_requests = max(1, math.floor(rate))
        self.window = self.window_requests / rate
        self.arrivals: list[tuple[float, int, str | None]] = []  # (monotonic time, status, mailto)
        self._admitted: deque[float] = deque()
        self._window_lock = threading.Lock()
        self._arrival = threading.local()
        handler = self._httpd.RequestHandlerClass
        arrival = self._arrival

        class StampingHandler(handler):
            """Stamps a request when its request line has arrived, as a server's edge does."""

            def parse_request(self):
                arrival.time = time.monotonic()
                return super().parse_request()

        self._httpd.RequestHandlerClass = StampingHandler

    def respond(self, path: str, query: dict[str, list[str]], headers):
        """Refuse above the rate, else answer as the mock server does; log the arrival."""
        if path == ARRIVALS_PATH:
            mailto = (query.get("mailto") or [None])[-1]
            with self._window_lock:
                mine = [[when, status] for when, status, sender in self.arrivals if sender == mailto]
            return 200, {}, json.dumps({"arrivals": mine}).encode(), None
        now = getattr(self._arrival, "time", None) or time.monotonic()
        self._arrival.time = None
        mailto = (query.get("mailto") or [None])[-1]
        with self._window_lock:
            while self._admitted and self._admitted[0] <= now - self.window:
                self._admitted.popleft()
            if len(self._admitted) >= self.window_requests:
                retry_after = max(1, math.ceil(self._admitted[0] + self.window - now))
                self.arrivals.append((now, 429, mailto))
                body = json.dumps({"error": "Rate limit exceeded", "message": "Too many requests per second."})
                return 429, {"Retry-After": str(retry_after)}, body.encode(), None
            self._admitted.append(now)
        status, response_headers, body, fault = super().respond(path, query, headers)
        with self._window_lock:
            self.arrivals.append((now, status, mailto))
        return status, response_headers, body, fault

    def refused(self, mailto: str | None = None) -> int:
        """How many requests (of ``mailto``'s, when given) were refused for the rate."""
        with self._window_lock:
            return sum(1 for _, status, sender in self.arrivals if status == 429 and mailto in (None, sender))


def main(argv: list[str] | None = None) -> int:
    """Serve a synthetic world (and the real records of ``--shared-data``) under an enforced
    rate until SIGTERM; prints the URL first."""
    parser = build_parser()
    parser.prog = "python -m tests.selection.rate_enforcing"
    parser.add_argument("--enforce-rate", type=float, required=True, help="requests a second the server accepts")
    parser.add_argument("--warm", action="store_true", help="encode every work as the harvest selects it first")
    args = parser.parse_args(argv)
    from selection.synthetic import generate_world

    world = generate_world(args.synthetic, seed=args.seed, from_year=args.from_year, to_year=args.to_year)
    data = MockData.from_world(world)
    if args.shared_data:
        data = MockData.from_shared_data(args.shared_data, extra=data)
    server = RateEnforcingServer(
        data, args.enforce_rate, faults=Faults(latency=tuple(args.latency)), seed=args.seed,
        daily_budget_usd=args.daily_budget,
    )
    if args.warm:
        # Encode every work as the harvest selects it before serving: a page then costs the
        # server no JSON encoding, so its arrival stamps do not wait on its own busy threads.
        from selection.harvest.settings import WORK_SELECT

        works = data.collection("works")
        for position in range(len(works.records)):
            works.encoded(position, works.check_select(",".join(WORK_SELECT)))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    print(f"serving on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
