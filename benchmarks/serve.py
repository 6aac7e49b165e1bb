"""`make serve` under a mixed load: logins, calendar pages and check-ins from concurrent clients.

One run:

1. a fresh PostgreSQL database, migrated, with the demo data; a check-in token of the demo
   staff user and the registration codes of the demo's events (through the services);
2. ``make serve`` (gunicorn, ``gunicorn.conf.py``, ``--workers`` processes; rate limits off
   with ``RATELIMIT_ENABLED=false``, as a load test must) on a free port;
3. ``--clients`` threads, each with its own session, for ``--seconds``: in turn the calendar
   page, a login through the form (the login page for its CSRF token, then the POST) and a
   check-in through the API (``POST /api/v1/checkins`` with the bearer token; a code checked
   in again changes nothing, an event not open for check-in answers 409).

Prints per kind the requests, the statuses, the 5xx count and p50 / p95 latency; exits 1 when
any answer is a 5xx or a request failed. Usage:
``.venv/bin/python benchmarks/serve.py [--clients 50] [--seconds 20] [--workers 4]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.web import CSRF, environment, free_port, fresh_database, run  # noqa: E402

STAFF_EMAIL, STAFF_PASSWORD = "staff@bast.demo.cn", "Staff-Demo-2026"
KINDS = ("calendar", "login", "checkin")


def prepare(database_url: str, instance: Path) -> tuple[dict, str, list[str]]:
    """Migrate, load the demo, and return the environment, a check-in token and registration codes."""
    env = {**environment(database_url, instance), "SECRET_KEY": "serve-benchmark-" + "0" * 48}
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "conference_app"]
    run(flask + ["db", "upgrade"], env)
    run(flask + ["demo", "load"], env)
    script = (
        "from sqlalchemy import select\n"
        "from conference_app import create_app\n"
        "from conference_app.accounts.services import find_user\n"
        "from conference_app.accounts.tokens import issue_token\n"
        "from conference_app.events.models import Registration\n"
        "from conference_app.extensions import db\n"
        "with create_app().app_context():\n"
        f"    token = issue_token(find_user({STAFF_EMAIL!r}), 'checkin', 'serve benchmark').secret\n"
        "    codes = db.session.scalars(select(Registration.code).limit(500)).all()\n"
        "    db.session.commit()\n"
        "    print(token); print(' '.join(codes))\n"
    )
    output = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            check=True).stdout.split("\n")
    return env, output[0].strip(), output[1].split()


def start(env: dict, workers: int, log) -> tuple[subprocess.Popen, int]:
    """``make serve`` on a free port, once it answers (its output goes to ``log``)."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"PORT={port}", "HOST=127.0.0.1"],
        cwd=REPO_ROOT, env={**env, "WORKERS": str(workers), "RATELIMIT_ENABLED": "false"},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process, port
        except requests.RequestException:
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)
    log.seek(0)
    raise SystemExit("make serve did not answer /healthz within 120 s:\n" + log.read().decode(errors="replace")[-3000:])


def client(base: str, token: str, codes: list[str], until: float, seed: int, results: dict, lock) -> None:
    """One client's loop over the three kinds of request."""
    rng, session, mine = random.Random(seed), requests.Session(), collections.defaultdict(list)
    turn = seed
    while time.monotonic() < until:
        kind = KINDS[turn % len(KINDS)]
        turn += 1
        started = time.perf_counter()
        try:
            if kind == "calendar":
                status = session.get(f"{base}/academic-month/", timeout=30).status_code
            elif kind == "login":
                session.cookies.clear()
                page = session.get(f"{base}/auth/login", timeout=30)
                found = CSRF.search(page.text)
                token_value = (found.group(1) or found.group(2)) if found else ""
                status = session.post(f"{base}/auth/login", timeout=30, allow_redirects=False, data={
                    "email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token_value}).status_code
            else:
                status = requests.post(f"{base}/api/v1/checkins", json={"code": rng.choice(codes)}, timeout=30,
                                       headers={"Authorization": f"Bearer {token}"}).status_code
        except requests.RequestException as error:
            status = f"failed: {type(error).__name__}"
        mine[kind].append((status, (time.perf_counter() - started) * 1000))
    with lock:
        for kind, answers in mine.items():
            results[kind].extend(answers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-benchmark-") as folder:
        env, token, codes = prepare(fresh_database(args.postgres, "cap_serve_benchmark"), Path(folder))
        log = open(Path(folder) / "serve.log", "w+b")  # noqa: SIM115 (closed with the folder)
        process, port = start(env, args.workers, log)
        try:
            results, lock = collections.defaultdict(list), threading.Lock()
            until = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client, args=(f"http://127.0.0.1:{port}", token, codes, until, n,
                                                             results, lock)) for n in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    print(f"make serve: {args.workers} gunicorn workers on PostgreSQL; {args.clients} concurrent clients for "
          f"{args.seconds:.0f} s; rate limits off")
    bad = 0
    for kind in KINDS:
        answers = results[kind]
        latencies = sorted(ms for _, ms in answers)
        statuses = collections.Counter(str(status) for status, _ in answers)
        errors = sum(count for status, count in statuses.items() if status.startswith(("5", "failed")))
        bad += errors
        p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
        print(f"{kind:>8}: {len(answers):,} requests, statuses {dict(sorted(statuses.items()))}, 5xx or failed "
              f"{errors}, p50 {statistics.median(latencies) if latencies else float('nan'):.0f} ms, p95 {p95:.0f} ms")
    print(f"errors (5xx or failed requests): {bad} (target 0)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
