"""The public pages under load: the Academic Month calendar, an event page and a series page,
served by gunicorn with several worker processes on PostgreSQL, at the demo's small scale
and at ``demo load --scale large`` (300 organisations, 2,000 events, 50,000 registrations).

One run:

1. two fresh PostgreSQL databases, migrated; ``demo load`` in one, ``demo load --scale large``
   in the other;
2. the SQL statements each page issues, counted in-process (Flask test client) at both
   scales: they must be the same number;
3. for each scale, gunicorn (``--workers``, default 4, sync workers) serves the app as it is
   deployed (with the micro-cache of the parts of public pages every visitor sees alike,
   ``PUBLIC_PAGE_CACHE_SECONDS``, default 5 s; ``--no-cache`` turns it off to see the cost of
   rendering them every time); after a warm-up, ``--clients`` (default 20) concurrent clients
   fetch each page for ``--seconds`` (default 10) each; the latencies' p50, p95 and p99 and
   the throughput are printed side by side.

Exits 1 when a page's p95 at the large scale is above 200 ms or a statement count differs.
Usage: ``.venv/bin/python benchmarks/web.py [--workers 4] [--clients 20] [--seconds 10]``.
Needs PostgreSQL at ``--postgres`` (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

P95_TARGET_MS = 200.0
VENV_BIN = Path(sys.executable).parent


def run(command: list[str], env: dict) -> str:
    """Run a command of the project (flask ...), failing loudly."""
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fresh_database(base_url: str, name: str) -> str:
    """Drop and create a database; returns its URL."""
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


def environment(database_url: str, instance: Path) -> dict:
    env = dict(os.environ, DATABASE_URL=database_url, INSTANCE_PATH=str(instance), SECRET_KEY="benchmark",
               PYTHONPATH=str(REPO_ROOT))
    env.pop("MAIL_SERVER", None)
    return env


def prepare(scale: str, database_url: str, instance: Path) -> dict:
    env = environment(database_url, instance)
    flask = [str(VENV_BIN / "flask"), "--app", "conference_app"]
    run(flask + ["db", "upgrade"], env)
    started = time.perf_counter()
    output = run(flask + ["demo", "load", "--scale", scale], env)
    summary = [line for line in output.splitlines() if line.startswith(("Academic Month:", "Large world:"))]
    return {"env": env, "load_seconds": time.perf_counter() - started, "summary": summary}


def page_urls(database_url: str) -> dict[str, str]:
    """The three pages measured: the calendar of the 29th Academic Month (full at both scales), the
    demo's international conference, its first salon series."""
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        event_id = connection.execute(
            "SELECT id FROM events WHERE kind = 'international' ORDER BY id LIMIT 1").fetchone()[0]
        series_id = connection.execute("SELECT id FROM salon_series ORDER BY id LIMIT 1").fetchone()[0]
    return {"calendar": "/academic-month/?edition=29", "event page": f"/events/{event_id}", "series page": f"/series/{series_id}"}


def statement_counts(env: dict, urls: dict[str, str]) -> dict[str, int]:
    """SQL statements per page, counted in a child process on that scale's database."""
    code = (
        "import json, sys\n"
        "from sqlalchemy import event\n"
        "from conference_app import create_app\n"
        "from conference_app.extensions import db\n"
        "app = create_app()\n"
        "urls = json.loads(sys.argv[1])\n"
        "counts = {}\n"
        "with app.app_context():\n"
        "    client = app.test_client()\n"
        "    for name, url in urls.items():\n"
        "        assert client.get(url).status_code == 200, url\n"
        "        statements = []\n"
        "        listener = lambda *args: statements.append(1)\n"
        "        event.listen(db.engine, 'before_cursor_execute', listener)\n"
        "        assert client.get(url).status_code == 200, url\n"
        "        event.remove(db.engine, 'before_cursor_execute', listener)\n"
        "        counts[name] = len(statements)\n"
        "print(json.dumps(counts))\n"
    )
    import json

    # Counted with the micro-cache off: what a page costs when it is rendered.
    output = run([sys.executable, "-c", code, json.dumps(urls)], dict(env, PUBLIC_PAGE_CACHE_SECONDS="0"))
    return json.loads(output.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    """gunicorn serving the app on a free port, once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "conference_app:create_app()"],
        cwd=REPO_ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/academic-month/")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not answer within 60 s")


def load(port: int, url: str, clients: int, seconds: float) -> dict:
    """``clients`` threads fetching ``url`` as fast as they can for ``seconds``; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        mine, failed = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", url)
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status != 200:
                    failed += 1
                    continue
            except OSError:
                failed += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")

    return {"requests": len(ordered), "errors": errors, "per_second": len(ordered) / seconds,
            "p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99),
            "mean": statistics.fmean(ordered) if ordered else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-cache", action="store_true", help="serve with PUBLIC_PAGE_CACHE_SECONDS=0")
    args = parser.parse_args()

    results, counts, summaries = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="web-benchmark-") as folder:
        for scale in ("small", "large"):
            database_url = fresh_database(args.postgres, f"web_benchmark_{scale}")
            world = prepare(scale, database_url, Path(folder) / scale)
            summaries[scale] = world
            urls = page_urls(database_url)
            counts[scale] = statement_counts(world["env"], urls)
            serving = dict(world["env"], PUBLIC_PAGE_CACHE_SECONDS="0") if args.no_cache else world["env"]
            process, port = serve(serving, args.workers)
            try:
                results[scale] = {}
                for name, url in urls.items():
                    load(port, url, args.clients, min(2.0, args.seconds))  # warm-up: caches, connections
                    results[scale][name] = load(port, url, args.clients, args.seconds)
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)

    print(f"gunicorn: {args.workers} sync workers; {args.clients} concurrent clients, {args.seconds:.0f} s a page; "
          f"PostgreSQL; {os.cpu_count()} CPU cores; micro-cache {'off' if args.no_cache else 'on'}")
    for scale in ("small", "large"):
        world = summaries[scale]
        print(f"  {scale}: demo load in {world['load_seconds']:.1f} s — " + "; ".join(world["summary"]))
    print(f"{'page':<12} {'statements small/large':>23} {'p50 ms':>16} {'p95 ms':>16} {'p99 ms':>16} {'req/s':>14} errors")
    failed = False
    for name in results["large"]:
        small, large = results["small"][name], results["large"][name]
        same = counts["small"][name] == counts["large"][name]
        failed |= not same or large["p95"] > P95_TARGET_MS or large["errors"] > 0
        print(f"{name:<12} {counts['small'][name]:>11} / {counts['large'][name]:<9}"
              f" {small['p50']:>7.1f} / {large['p50']:<7.1f} {small['p95']:>7.1f} / {large['p95']:<7.1f}"
              f" {small['p99']:>7.1f} / {large['p99']:<7.1f} {small['per_second']:>6.0f} / {large['per_second']:<6.0f}"
              f" {small['errors']}/{large['errors']}")
    print(f"target: p95 <= {P95_TARGET_MS:.0f} ms at the large scale, the same statements at both scales: "
          + ("missed" if failed else "met"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
