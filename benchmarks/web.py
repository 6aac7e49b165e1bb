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
   the throughput are printed side by side;
4. the expert's scoring screen (``/panels/review-rounds/<id>/score``, logged in): in the large
   database, a ranking of 20,000 synthetic works (about 740 candidates in its busiest
   discipline) imported as a round, a panel of seven and its triage opened through the
   services; then one member's assignments are set to 50 candidates and another's to 500
   (Review rows written directly, a third of them scored). Its statements are counted for
   both experts (they must be the same number), and each of the ``--clients`` logs in through
   the login form once, then fetches the page as the 50- and as the 500-candidate expert.

Exits 1 when a page's p95 at the large scale (the scoring screen's with 500 candidates) is
above 200 ms or a statement count differs.
Usage: ``.venv/bin/python benchmarks/web.py [--workers 4] [--clients 20] [--seconds 10]``.
Needs PostgreSQL at ``--postgres`` (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

P95_TARGET_MS = 200.0
VENV_BIN = Path(sys.executable).parent
# The scoring screen's world (``scoring_world``): its experts log in with this password.
SCORING_WORKS, SCORING_SEED = 20000, 500
SCORING_LOADS = (50, 500)
SCORING_PASSWORD = "Bench-Expert-2026"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


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
               PYTHONPATH=str(REPO_ROOT), RATELIMIT_ENABLED="false")  # each client logs in: no login limit
    env.pop("MAIL_SERVER", None)
    return env


def prepare(scale: str, database_url: str, instance: Path) -> dict:
    env = environment(database_url, instance)
    flask = [str(VENV_BIN / "flask"), "--app", "conference_app"]
    run(flask + ["db", "upgrade"], env)
    started = time.perf_counter()
    output = run(flask + ["demo", "load", "--scale", scale], env)
    summary = [line for line in output.splitlines() if line.startswith(("Academic Month:", "Panels:", "Large world:"))]
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


def scoring_world(env: dict) -> dict:
    """Build the scoring screen's world in a child process (``--scoring-world``) on that database."""
    output = run([sys.executable, str(Path(__file__).resolve()), "--scoring-world"], env)
    return json.loads(output.strip().splitlines()[-1])


def build_scoring_world() -> None:
    """Child process: rank synthetic works, import them as a round, open a panel of seven and
    its triage through the services, then give two members exactly 50 and 500 assignments.
    Prints the round's id and the experts' e-mails by load (JSON)."""
    import contextlib
    import io
    import random

    import pyarrow.parquet as pq
    from sqlalchemy import delete, func, insert, select

    from conference_app import create_app
    from conference_app.accounts import services as accounts
    from conference_app.accounts.models import User
    from conference_app.core.db import unit_of_work
    from conference_app.core.permissions import Role
    from conference_app.extensions import db
    from conference_app.panels import review, services
    from conference_app.panels.models import Candidate, Review
    from selection.cli import main as selection_main
    from selection.synthetic.table import works_table

    app = create_app()
    with app.app_context(), unit_of_work(), tempfile.TemporaryDirectory(prefix="scoring-world-") as folder:
        staff = db.session.scalar(select(User).where(User.role == Role.STAFF).order_by(User.id))
        works = Path(folder) / "works.parquet"
        pq.write_table(works_table(SCORING_WORKS, seed=SCORING_SEED), works)
        with contextlib.redirect_stdout(io.StringIO()):
            assert selection_main(["rank", "--works", str(works), "--out", f"{folder}/out", "--per-group", "500"]) == 0
        selection_round = services.import_round(f"{folder}/out", "基准测试：专家打分页", staff).round
        discipline = db.session.execute(
            select(Candidate.discipline).where(Candidate.round_id == selection_round.id)
            .group_by(Candidate.discipline).order_by(func.count().desc())).scalar()
        experts = [accounts.create_user(f"bench-expert{number}@benchmark.demo.cn", f"基准专家{number}",
                                        Role.EXPERT.value, password=SCORING_PASSWORD) for number in range(1, 8)]
        panel = services.create_panel(selection_round, discipline, "基准测试专家组", staff)
        for expert in experts:
            services.add_member(panel, expert, staff)
        services.set_chair(panel, experts[0], staff)
        services.open_panel(panel, staff)
        services.compute_conflicts(panel, staff)
        triage = review.create_round(panel, "triage", staff, blind=True, per_item=3)
        positions = sorted(set(db.session.execute(select(Review.candidate_id, Review.position)
                                                  .where(Review.review_round_id == triage.id)).all()),
                           key=lambda row: (row[1], row[0]))
        if len(positions) < max(SCORING_LOADS):
            raise SystemExit(f"only {len(positions)} candidates in {discipline}; {max(SCORING_LOADS)} are needed")
        rng = random.Random(SCORING_SEED)
        by_load = {}
        for expert, load in zip(experts[-len(SCORING_LOADS):], SCORING_LOADS):
            db.session.execute(delete(Review).where(Review.review_round_id == triage.id, Review.user_id == expert.id))
            db.session.execute(insert(Review), [
                {"review_round_id": triage.id, "candidate_id": candidate_id, "user_id": expert.id,
                 "position": position, "score": rng.randint(3, 10) if number % 3 == 0 else None,
                 "comment": "方法新颖，建议进入下一轮。" if number % 9 == 0 else None}
                for number, (candidate_id, position) in enumerate(positions[:load])])
            by_load[load] = expert.email
        print(json.dumps({"review_round_id": triage.id, "experts": by_load, "candidates": len(positions),
                          "discipline": discipline}))


def scoring_statement_counts(env: dict, world: dict) -> dict[int, int]:
    """SQL statements of the scoring screen for each expert, logged in through the login form
    of the Flask test client, counted in a child process."""
    code = (
        "import json, re, sys\n"
        "from sqlalchemy import event\n"
        "from conference_app import create_app\n"
        "from conference_app.extensions import db\n"
        "app = create_app()\n"
        "world, password, pattern = json.loads(sys.argv[1]), sys.argv[2], re.compile(sys.argv[3])\n"
        "url = f\"/panels/review-rounds/{world['review_round_id']}/score\"\n"
        "counts = {}\n"
        "with app.app_context():\n"
        "    engine = db.engine\n"
        "for load, email in world['experts'].items():  # each request in its own context, as when served\n"
        "    client = app.test_client()\n"
        "    token = next(g for g in pattern.search(client.get('/auth/login').get_data(as_text=True)).groups() if g)\n"
        "    login = client.post('/auth/login', data={'email': email, 'password': password, 'csrf_token': token})\n"
        "    assert login.status_code == 302, (email, login.status_code)\n"
        "    assert client.get(url).status_code == 200, url\n"
        "    statements = []\n"
        "    listener = lambda *args: statements.append(1)\n"
        "    event.listen(engine, 'before_cursor_execute', listener)\n"
        "    page = client.get(url)\n"
        "    event.remove(engine, 'before_cursor_execute', listener)\n"
        "    assert page.status_code == 200, url\n"
        "    counts[load] = len(statements)\n"
        "print(json.dumps(counts))\n"
    )
    output = run([sys.executable, "-c", code, json.dumps(world), SCORING_PASSWORD, CSRF.pattern], env)
    return {int(load): count for load, count in json.loads(output.strip().splitlines()[-1]).items()}


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _sep, value = header.split(";", 1)[0].partition("=")
        jar[name.strip()] = value.strip()


def log_in(port: int, email: str, password: str) -> str:
    """Log in through the login form of the served app; the Cookie header of the new session."""
    jar: dict[str, str] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/auth/login")
    response = connection.getresponse()
    match = CSRF.search(response.read().decode())
    _cookies(response, jar)
    if match is None:
        raise SystemExit("no CSRF token on /auth/login")
    body = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf_token": next(group for group in match.groups() if group)})
    connection.request("POST", "/auth/login", body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{name}={value}" for name, value in jar.items())})
    response = connection.getresponse()
    response.read()
    _cookies(response, jar)
    connection.close()
    if response.status != 302:
        raise SystemExit(f"logging in as {email} answered {response.status}")
    return "; ".join(f"{name}={value}" for name, value in jar.items())


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


def load(port: int, url: str, clients: int, seconds: float, cookies: list[str] | None = None) -> dict:
    """``clients`` threads fetching ``url`` as fast as they can for ``seconds``; latencies in ms.
    With ``cookies``, client ``n`` sends ``cookies[n]`` (its own login session)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        nonlocal errors
        mine, failed = [], 0
        headers = {"Cookie": cookies[number % len(cookies)]} if cookies else {}
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", url, headers=headers)
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

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
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
    parser.add_argument("--scoring-world", action="store_true", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args()
    if args.scoring_world:
        build_scoring_world()
        return 0

    results, counts, summaries = {}, {}, {}
    scoring, scoring_counts, scoring_world_info = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="web-benchmark-") as folder:
        for scale in ("small", "large"):
            database_url = fresh_database(args.postgres, f"web_benchmark_{scale}")
            world = prepare(scale, database_url, Path(folder) / scale)
            summaries[scale] = world
            urls = page_urls(database_url)
            counts[scale] = statement_counts(world["env"], urls)
            if scale == "large":
                started = time.perf_counter()
                scoring_world_info = scoring_world(world["env"])
                scoring_world_info["seconds"] = time.perf_counter() - started
                scoring_counts = scoring_statement_counts(world["env"], scoring_world_info)
            serving = dict(world["env"], PUBLIC_PAGE_CACHE_SECONDS="0") if args.no_cache else world["env"]
            process, port = serve(serving, args.workers)
            try:
                results[scale] = {}
                for name, url in urls.items():
                    load(port, url, args.clients, min(2.0, args.seconds))  # warm-up: caches, connections
                    results[scale][name] = load(port, url, args.clients, args.seconds)
                if scale == "large":
                    url = f"/panels/review-rounds/{scoring_world_info['review_round_id']}/score"
                    for assigned, email in scoring_world_info["experts"].items():
                        sessions = [log_in(port, email, SCORING_PASSWORD) for _ in range(args.clients)]
                        load(port, url, args.clients, min(2.0, args.seconds), sessions)  # warm-up
                        scoring[int(assigned)] = load(port, url, args.clients, args.seconds, sessions)
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
    few, many = SCORING_LOADS
    fewer, more = scoring[few], scoring[many]
    failed |= scoring_counts[few] != scoring_counts[many] or more["p95"] > P95_TARGET_MS
    failed |= fewer["errors"] > 0 or more["errors"] > 0
    print(f"{'scoring page':<12} {scoring_counts[few]:>11} / {scoring_counts[many]:<9}"
          f" {fewer['p50']:>7.1f} / {more['p50']:<7.1f} {fewer['p95']:>7.1f} / {more['p95']:<7.1f}"
          f" {fewer['p99']:>7.1f} / {more['p99']:<7.1f} {fewer['per_second']:>6.0f} / {more['per_second']:<6.0f}"
          f" {fewer['errors']}/{more['errors']}")
    print(f"  scoring page: an expert's triage screen with {few} / {many} assigned candidates (both in the large "
          f"database, logged in, {args.clients} sessions); world of {scoring_world_info['candidates']} "
          f"{scoring_world_info['discipline']} candidates built in {scoring_world_info['seconds']:.1f} s")
    print(f"target: p95 <= {P95_TARGET_MS:.0f} ms at the large scale (the scoring page with {many} candidates), "
          f"the same statements at both scales (with {few} and {many} candidates): " + ("missed" if failed else "met"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
