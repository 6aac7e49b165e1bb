"""Kill the harvest (SIGKILL, SIGINT) at random points; --resume must give the same file.

The interrupted runs are subprocesses of ``python -m selection harvest``; the reference
run is in-process with the same settings (workers and rate do not change the result).

The points are chosen from progress, never from the clock: before each run the mock
server's page gate is set to hold every works page after a random number of them, so
the run cannot finish before its signal however loaded the machine is. A run needs at
least as many pages as the reference run needed minus the pages served to the runs
before it (a served page advances at most one checkpoint), and the gate is always set
below that. Each run sends its own ``--mailto``, and its gate counts and holds only the
requests that carry it.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from selection.harvest.run import harvest
from selection.harvest.scheduler import HarvestStopped
from selection.openalex.client import OpenAlexClient
from tests.conftest import REPO_ROOT
from tests.selection.harvest_helpers import harvest_settings

# (signal, whether the run has started: served at least one page) for each interruption in
# turn; a run that has not started is killed at a random moment before its first page,
# start-up included.
INTERRUPTIONS = [
    (signal.SIGKILL, True),
    (signal.SIGINT, True),
    (signal.SIGKILL, False),
    (signal.SIGKILL, True),
    (signal.SIGINT, True),
    (signal.SIGKILL, True),
]
HARVEST_OPTIONS = dict(batch_size=6, split_above=200, workers=4)
RATE = 100  # requests per second; the gate, not the pace, decides where a run stops


def harvest_command(server, inputs, out: Path, resume: bool, mailto: str) -> list[str]:
    command = [
        sys.executable, "-m", "selection", "harvest",
        "--from-year", "2021", "--to-year", "2025", "--out", str(out),
        "--base-url", server.url, "--institutions", str(inputs.institutions),
        "--journal-overrides", str(inputs.overrides),
        "--batch-size", str(HARVEST_OPTIONS["batch_size"]), "--split-above", str(HARVEST_OPTIONS["split_above"]),
        "--workers", str(HARVEST_OPTIONS["workers"]), "--rate", str(RATE), "--quiet", "--mailto", mailto,
    ]
    return command + (["--resume"] if resume else [])


def start(server, inputs, out: Path, resume: bool, mailto: str) -> subprocess.Popen:
    """A harvest subprocess; ``mailto`` names it to the server (its requests carry it)."""
    return subprocess.Popen(
        harvest_command(server, inputs, out, resume, mailto),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def wait_until_served(gate, pages: int, process: subprocess.Popen) -> None:
    """Until the gate has served ``pages`` pages to the run; fails if the run ends first."""
    deadline = time.monotonic() + 300  # a fail-safe only: the gate holds the run until then
    while not gate.wait_until_served(pages, timeout=0.1):
        assert process.poll() is None, f"the harvest ended before page {pages}: {process.stderr.read()}"
        assert time.monotonic() < deadline, f"the harvest did not reach page {pages}"


@pytest.fixture
def interruptible_children():
    """Children that take SIGINT as Ctrl-C in a terminal does (KeyboardInterrupt).

    A process started in the background by a script (``make test &``, nohup) ignores
    SIGINT, and an ignored signal stays ignored in its children: the harvests would not
    see the interruption at all. A handler of our own is reset to the default in a child.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def slow_pages(mock_server):
    mock_server.faults.latency = (0.02, 0.05)
    yield mock_server
    mock_server.remove_gate()


def test_kill_and_resume_at_random_points_gives_the_uninterrupted_result(
    slow_pages, interruptible_children, harvest_inputs, tmp_path
):
    server = slow_pages
    reference = tmp_path / "reference"
    counter = server.gate_pages(None)
    harvest(OpenAlexClient(server.url, rate=RATE), harvest_settings(harvest_inputs, **HARVEST_OPTIONS), reference,
            quiet=True)
    pages_needed = counter.served
    assert pages_needed > 4 * len(INTERRUPTIONS)

    out = tmp_path / "interrupted"
    rng = random.Random(20261124)
    served = 0
    for number, (signal_number, started) in enumerate(INTERRUPTIONS):
        # Fewer pages than this run needs, leaving room for the runs after it.
        pages_left = pages_needed - served
        pages = rng.randint(1, max(1, (pages_left - 1) // (len(INTERRUPTIONS) - number))) if started else 0
        assert pages < pages_left
        # The gate counts and holds only this run's pages: a killed run's last request may
        # still reach the server after the next run has started.
        mailto = f"run{number}@harvest.test"
        gate = server.gate_pages(pages, mailto=mailto)
        process = start(server, harvest_inputs, out, resume=number > 0, mailto=mailto)
        wait_until_served(gate, pages, process)
        # Where exactly the signal lands (writing a page, a checkpoint, waiting, starting up)
        # is left to chance; the gate keeps the run from finishing meanwhile.
        time.sleep(rng.uniform(0.0, 0.05) if started else rng.uniform(0.0, 1.0))
        assert process.poll() is None
        process.send_signal(signal_number)
        code = process.wait(timeout=60)
        served += gate.served  # read before the release: pages served while the run was alive
        server.remove_gate()
        manifest = read_manifest(out) if (out / "manifest.json").exists() else None
        if signal_number == signal.SIGINT:
            assert code == 130, process.stderr.read()
            assert manifest["status"] == "interrupted"
        else:
            assert code == -signal.SIGKILL
        assert manifest is None or manifest["status"] != "complete"
        assert not (out / "works.parquet").exists() or signal_number == signal.SIGKILL

    final = start(server, harvest_inputs, out, resume=True, mailto="final@harvest.test")
    assert final.wait(timeout=300) == 0, final.stderr.read()
    assert read_manifest(out)["status"] == "complete"
    assert pq.read_table(out / "works.parquet").equals(pq.read_table(reference / "works.parquet"))
    assert (out / "works.parquet").read_bytes() == (reference / "works.parquet").read_bytes()


def test_should_stop_stops_a_harvest_between_pages_and_the_resumed_run_gives_the_same_file(
    slow_pages, harvest_inputs, tmp_path
):
    """What a cancelled job does: ``should_stop`` turns True while pages are held at the gate;
    the run stops without waiting for a progress report, interrupted and resumable."""
    server = slow_pages
    settings = harvest_settings(harvest_inputs, **HARVEST_OPTIONS)
    reference = tmp_path / "reference"
    harvest(OpenAlexClient(server.url, rate=RATE), settings, reference, quiet=True)
    out = tmp_path / "stopped"
    gate = server.gate_pages(3)
    asked = []

    def should_stop() -> bool:
        asked.append(gate.served)
        return gate.served >= 3  # the gate holds every page after the third: the run cannot finish

    with pytest.raises(HarvestStopped):
        harvest(OpenAlexClient(server.url, rate=RATE), settings, out, quiet=True, should_stop=should_stop)
    server.remove_gate()
    assert read_manifest(out)["status"] == "interrupted" and not (out / "works.parquet").exists()
    assert asked[-1] >= 3
    harvest(OpenAlexClient(server.url, rate=RATE), settings, out, resume=True, quiet=True)
    assert (out / "works.parquet").read_bytes() == (reference / "works.parquet").read_bytes()
