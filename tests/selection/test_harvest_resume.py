"""Kill the harvest (SIGKILL, SIGINT) at random points; --resume must give the same file.

The interrupted runs are subprocesses of ``python -m selection harvest``; the reference
run is in-process with the same settings (workers and rate do not change the result).
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

from selection.harvest import harvest
from selection.openalex import OpenAlexClient
from tests.conftest import REPO_ROOT
from tests.selection.test_harvest import harvest_settings

# (signal, whether to wait until the run has started) for each interruption in turn;
# the others land at a random moment of a started run.
INTERRUPTIONS = [
    (signal.SIGKILL, True),
    (signal.SIGINT, True),
    (signal.SIGKILL, False),  # anywhere, start-up included
    (signal.SIGKILL, True),
    (signal.SIGINT, True),
    (signal.SIGKILL, True),
]
HARVEST_OPTIONS = dict(batch_size=6, split_above=200, workers=4)


def harvest_command(server, inputs, out: Path, resume: bool) -> list[str]:
    command = [
        sys.executable, "-m", "selection", "harvest",
        "--from-year", "2021", "--to-year", "2025", "--out", str(out),
        "--base-url", server.url, "--institutions", str(inputs.institutions),
        "--journal-overrides", str(inputs.overrides),
        "--batch-size", str(HARVEST_OPTIONS["batch_size"]), "--split-above", str(HARVEST_OPTIONS["split_above"]),
        "--workers", str(HARVEST_OPTIONS["workers"]), "--rate", "25", "--quiet",
    ]
    return command + (["--resume"] if resume else [])


def start(server, inputs, out: Path, resume: bool) -> subprocess.Popen:
    return subprocess.Popen(
        harvest_command(server, inputs, out, resume),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def wait_for_session(out: Path, process: subprocess.Popen, session: int, timeout: float = 20.0) -> None:
    """Until the harvest has started its ``session``-th run (1-based) in ``out``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            manifest = read_manifest(out)
            if manifest["status"] == "running" and len(manifest["sessions"]) == session:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)


@pytest.fixture
def slow_pages(mock_server):
    mock_server.faults.latency = (0.02, 0.05)
    return mock_server


def test_kill_and_resume_at_random_points_gives_the_uninterrupted_result(slow_pages, harvest_inputs, tmp_path):
    server = slow_pages
    reference = tmp_path / "reference"
    client = OpenAlexClient(server.url, rate=25)
    settings = harvest_settings(harvest_inputs, **HARVEST_OPTIONS)
    duration = harvest(client, settings, reference, quiet=True)["duration_seconds"]

    out = tmp_path / "interrupted"
    rng = random.Random(20261124)
    for number, (signal_number, after_start) in enumerate(INTERRUPTIONS):
        sessions = len(read_manifest(out)["sessions"]) if (out / "manifest.json").exists() else 0
        process = start(server, harvest_inputs, out, resume=number > 0)
        if after_start:
            wait_for_session(out, process, session=sessions + 1)
        time.sleep(rng.uniform(0.0, 0.2 * duration if after_start else 1.0))
        assert process.poll() is None, "the harvest finished before it could be interrupted"
        process.send_signal(signal_number)
        code = process.wait(timeout=60)
        manifest = read_manifest(out) if (out / "manifest.json").exists() else None
        if signal_number == signal.SIGINT:
            assert code == 130, process.stderr.read()
            assert manifest["status"] == "interrupted"
        assert manifest is None or manifest["status"] != "complete"
        assert not (out / "works.parquet").exists() or signal_number == signal.SIGKILL

    final = start(server, harvest_inputs, out, resume=True)
    assert final.wait(timeout=120) == 0, final.stderr.read()
    assert read_manifest(out)["status"] == "complete"
    assert pq.read_table(out / "works.parquet").equals(pq.read_table(reference / "works.parquet"))
    assert (out / "works.parquet").read_bytes() == (reference / "works.parquet").read_bytes()
