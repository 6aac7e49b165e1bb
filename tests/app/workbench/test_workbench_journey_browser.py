"""In Chromium, the analyst's workbench from a harvest to a selection round (acceptance 1 of
issue 12): the analyst starts a harvest of the local mock OpenAlex server from the workbench,
watches its progress advance, cancels it, resumes it to completion, renormalises it, refreshes
the institution list from the server, runs a ranking, runs a second one with changed weights,
compares the two and imports the second as a round (a job too). Once with
the jobs in a thread of the web process (no Redis), once on Redis with a separate
``flask worker`` process. Screenshots go to test-artifacts/workbench-<mode>-*.png.

The harvest's own rate (6 requests per second) makes its progress observable; page gates bound
to the analyst's contact address hold it first at 30 pages (so its first progress report, at
about 20, is seen before any other) and then 25 pages further until the analyst has cancelled.
It reports every 5 seconds, and the 85 pages or more left after the gate take at least 14 s at
that rate: it stops on the cancellation long before its end, however the machine is loaded. The API key the analyst types is required by the server, so every attempt (the
resumed one too, on either runner) shows it reached the harvest as a secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from conference_app import create_app
from conference_app.accounts import services as accounts
from conference_app.core.db import unit_of_work
from conference_app.extensions import db
from conference_app.panels.models import SelectionRound
from selection.openalex.mockserver import MockData, MockOpenAlexServer
from selection.synthetic import generate_world
from tests.app.conftest import DEFAULT_PASSWORD, app_settings, screenshot
from tests.app.organisations.test_journey_browser import log_in
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

ANALYST = "analyst@bast.example.cn"
CONTACT = "workbench-journey@example.cn"  # the harvest's mailto: the page gate holds only its pages
API_KEY = "journey-key-7c1e"
REDIS_URL = "redis://127.0.0.1:6379/14"
WORLD_WORKS = 20_000  # about 135 pages of works
FIRST_GATE_PAGES, SECOND_GATE_PAGES = 30, 25
TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def openalex():
    """The mock server with a world of about 135 pages; it requires ``API_KEY``."""
    data = MockData.from_world(generate_world(WORLD_WORKS, seed=12))
    with MockOpenAlexServer(data, api_key=API_KEY, daily_budget_usd=100.0) as server:
        yield server


def redis_reachable() -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except RedisError:
        return False


@pytest.fixture(params=["inline", "redis"])
def workbench(request, tmp_path, monkeypatch):
    """The app served from a thread on its own SQLite file; with "redis" its jobs go to Redis
    database 14 (flushed first) and a ``flask worker`` subprocess runs them."""
    mode = request.param
    if mode == "redis" and not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    cache = tmp_path / "selection-cache"
    monkeypatch.setenv("SELECTION_CACHE_DIR", str(cache))  # lists built from the server, in this test only
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    redis_url = REDIS_URL if mode == "redis" else ""
    settings = app_settings(database_url, tmp_path / "instance") | {
        "TESTING": False, "REDIS_URL": redis_url, "JOB_HEARTBEAT_SECONDS": 1}
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        with unit_of_work():
            accounts.create_user(ANALYST, "定量分析员", "analyst", password=DEFAULT_PASSWORD)
        db.session.remove()
    worker = None
    if mode == "redis":
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
        environment = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "UPLOAD_DIR": settings["UPLOAD_DIR"], "REDIS_URL": REDIS_URL, "JOB_HEARTBEAT_SECONDS": "1",
                       "SELECTION_CACHE_DIR": str(cache)}
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "conference_app", "worker"],
                                  cwd=REPO_ROOT, env=environment, stdout=worker_log, stderr=subprocess.STDOUT)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app, server.url, server.mode = app, f"http://127.0.0.1:{server.server_port}", mode
    yield server
    server.shutdown()
    thread.join(timeout=5)
    if worker is not None:
        worker.terminate()
        worker.wait(timeout=30)
        worker_log.close()
        print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])  # shown when the test fails
    with app.app_context():
        db.engine.dispose()


def job_page_state(page, state: str) -> None:
    """Wait until the job's page shows ``state`` (it reloads itself when the state changes)."""
    expect(page.locator(f'#job[data-state="{state}"]')).to_be_visible(timeout=TIMEOUT_MS)


def progress_value(page) -> float:
    return float(page.locator('[data-job="bar"]').get_attribute("aria-valuenow"))


def rank(page, base: str, harvest_id: int, weights: dict[str, str]) -> int:
    """Run a ranking of the harvest with ``weights`` (an open gate, so the busiest lists fill)."""
    page.goto(f"{base}/workbench/rankings/new?harvest={harvest_id}")
    for name, value in weights.items():
        page.locator(f"[name=weight_{name}]").fill(value)
    page.locator("[name=eligibility_top_share]").fill("1")
    page.locator("[data-testid=rank-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    job_page_state(page, "finished")
    return int(page.url.rsplit("/", 1)[1])


def test_from_a_harvest_to_a_selection_round(workbench, openalex, page):
    base, shot = workbench.url, f"workbench-{workbench.mode}"
    openalex.gate_pages(FIRST_GATE_PAGES, mailto=CONTACT)
    log_in(page, base, ANALYST, DEFAULT_PASSWORD)
    page.wait_for_url("**/home")

    # The analyst starts a harvest from the workbench.
    page.goto(f"{base}/workbench/")
    page.get_by_test_id("new-harvest").click()
    page.locator("[name=from_year]").fill("2021")
    page.locator("[name=to_year]").fill("2025")
    page.locator("[name=base_url]").fill(openalex.url)
    page.locator("[name=mailto]").fill(CONTACT)
    page.locator("[name=rate]").fill("6")
    page.locator("[name=api_key]").fill(API_KEY)
    screenshot(page, f"{shot}-01-new-harvest")
    page.locator("[data-testid=harvest-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    harvest_id = int(page.url.rsplit("/", 1)[1])
    assert API_KEY not in page.content()

    # Its progress advances while it runs.
    job_page_state(page, "running")
    expect(page.locator('[data-job="bar"]')).not_to_have_attribute("aria-valuenow", "0", timeout=TIMEOUT_MS)
    first = progress_value(page)
    gate = openalex.gate_pages(SECOND_GATE_PAGES, mailto=CONTACT)  # lets 25 more pages through
    page.wait_for_function(
        "first => Number(document.querySelector('[data-job=\"bar\"]').getAttribute('aria-valuenow')) > first",
        arg=first, timeout=TIMEOUT_MS)
    assert 0 < first < progress_value(page) < 100
    screenshot(page, f"{shot}-02-harvest-running")

    # The analyst cancels it: it stops at its next progress report (the gate lets every page through now).
    page.get_by_test_id("cancel-job").click()
    expect(page.locator(".alert-success")).to_be_visible()
    gate.release()
    job_page_state(page, "cancelled")
    cancelled_at = progress_value(page)
    assert cancelled_at < 100
    screenshot(page, f"{shot}-03-harvest-cancelled")

    # Resumed, it continues from its checkpoints to the end.
    page.get_by_test_id("resume-job").click()
    job_page_state(page, "finished")
    expect(page.get_by_test_id("job-outputs")).to_contain_text("works.parquet")
    screenshot(page, f"{shot}-04-harvest-finished")

    # The harvest's page: the manifest and the institution list it used.
    page.goto(f"{base}/workbench/harvests/{harvest_id}")
    expect(page.get_by_test_id("manifest")).to_contain_text("已完成")
    expect(page.get_by_test_id("institutions-table")).to_be_visible()
    assert API_KEY not in page.content()
    screenshot(page, f"{shot}-05-harvest-page")

    # Renormalised from its raw pages (a job), the harvest page lists the rebuild.
    page.get_by_test_id("renormalise").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    job_page_state(page, "finished")
    expect(page.get_by_test_id("job-outputs")).to_contain_text("works.parquet")
    page.goto(f"{base}/workbench/harvests/{harvest_id}")
    expect(page.get_by_test_id("renormalisations-table")).to_be_visible()
    screenshot(page, f"{shot}-05b-renormalised")

    # The institution list refreshed from the server (the API key a secret again), keeping the
    # harvest's hand-added rows; its rows are shown.
    page.goto(f"{base}/workbench/")
    page.get_by_test_id("refresh-institutions").click()
    page.locator("[name=current_list]").select_option(str(harvest_id))
    page.locator("[name=base_url]").fill(openalex.url)
    page.locator("[name=rate]").fill("100")
    page.locator("[name=api_key]").fill(API_KEY)
    page.locator("[data-testid=institutions-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    refresh_id = int(page.url.rsplit("/", 1)[1])
    job_page_state(page, "finished")
    expect(page.get_by_test_id("job-outputs")).to_contain_text("institutions.csv")
    assert API_KEY not in page.content()
    page.goto(f"{base}/workbench/institutions/{refresh_id}")
    expect(page.get_by_test_id("institutions-table")).to_contain_text("手工添加")
    screenshot(page, f"{shot}-05c-refreshed-list")

    # A first ranking with the default weights, then one that puts hotness first.
    first_ranking = rank(page, base, harvest_id, {})
    second_ranking = rank(page, base, harvest_id, {"influence": "0.1", "hot": "0.6", "frontier": "0.15",
                                                   "originality": "0.15"})
    page.goto(f"{base}/workbench/rankings/{second_ranking}")
    expect(page.get_by_test_id("lists-table")).to_be_visible()
    expect(page.get_by_test_id("chart-funnel")).to_be_visible()
    screenshot(page, f"{shot}-06-ranking")

    # Compared with the first: works entered and left, the weights that differ.
    page.locator("#compare-a").select_option(str(first_ranking))
    page.locator("[data-testid=compare-form] button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/workbench/compare\?b={second_ranking}&a={first_ranking}$"))
    expect(page.get_by_test_id("settings-changes")).to_contain_text("热度权重")
    assert int(page.get_by_test_id("total-entered").inner_text()) > 0
    assert int(page.get_by_test_id("total-left").inner_text()) > 0
    expect(page.get_by_test_id("chart-scores")).to_be_visible()
    screenshot(page, f"{shot}-07-compare")

    # Imported as a selection round for the panels.
    page.goto(f"{base}/workbench/rankings/{second_ranking}")
    page.locator("[data-testid=import-round] [name=name]").fill("2026年度工作台遴选")
    page.locator("[data-testid=import-round] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))  # the import runs as a job
    expect(page.locator(".alert-success")).to_contain_text("2026年度工作台遴选")
    job_page_state(page, "finished")
    expect(page.get_by_test_id("job-outputs")).to_contain_text("round.json")
    screenshot(page, f"{shot}-08-import-job")
    page.goto(f"{base}/workbench/rankings/{second_ranking}")
    page.get_by_test_id("import-round-link").click()
    page.wait_for_url(re.compile(r".*/panels/rounds/\d+$"))
    expect(page.locator("h1")).to_contain_text("2026年度工作台遴选")
    screenshot(page, f"{shot}-08b-round")
    with workbench.app.app_context():
        selection_round = db.session.scalar(select(SelectionRound))
        assert selection_round.source_folder == f"workbench-ranking-{second_ranking}"
        assert int(page.get_by_test_id("candidate-count").inner_text()) == selection_round.candidate_count > 0
        db.session.remove()
    page.goto(f"{base}/workbench/")
    expect(page.get_by_test_id("rankings-table")).to_contain_text(f"#{second_ranking}")
    screenshot(page, f"{shot}-09-overview")
