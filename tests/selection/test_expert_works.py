"""``python -m selection expert-works``: each expert's works since a year through the real
pyalex path against the mock server serving the real records, an interrupted run resumed,
and its table feeding the conflict check."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection import cli
from selection.disciplines import load_disciplines
from selection.harvest.normalize import WorkNormalizer
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.openalex.client import OpenAlexClient
from selection.openalex.mockserver import MockData, MockOpenAlexServer
from selection.panel.works import EXPERT_WORKS_SCHEMA, authorships_of, fetch_author_works
from selection.schema import CANDIDATES_SCHEMA, schema_version, short_id
from tests.conftest import REPO_ROOT

MODULES = ("selection.panel.works", "selection.panel.conflicts")
FROM_YEAR = 2012
# Real authors with works before and since FROM_YEAR; e4's works have no publication_date.
EXPERTS = [
    ("e1", "A5007426895"),
    ("e2", "A5050444884"),
    ("e3", "A5072262751"),
    ("e4", "https://openalex.org/A5111222692"),
    ("e5", "A5052275685"),
    ("e6", ""),  # no author id: skipped
]
# Runs the command through selection.cli.main in a child process, listed in cli.py or not.
CHILD = (
    "import sys\n"
    "from selection import cli\n"
    f"cli.SUBCOMMAND_MODULES += tuple(m for m in {MODULES!r} if m not in cli.SUBCOMMAND_MODULES)\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


@pytest.fixture
def main(monkeypatch):
    """``selection.cli.main`` with the panel commands, whether cli.py lists them yet or not."""
    missing = tuple(module for module in MODULES if module not in cli.SUBCOMMAND_MODULES)
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", (*cli.SUBCOMMAND_MODULES, *missing))
    return cli.main


@pytest.fixture(scope="module")
def server(shared_data):
    """A mock OpenAlex server of the real records only."""
    with MockOpenAlexServer(MockData.from_shared_data(shared_data)) as running:
        yield running


@pytest.fixture
def open_server(server):
    yield server
    server.remove_gate()


def write_experts(path, experts=EXPERTS) -> None:
    lines = ["expert_id,name,openalex_author_id,institution_ids"]
    lines += [f"{expert_id},Expert {expert_id},{author_id}," for expert_id, author_id in experts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def options(server, experts, out, *more, mailto="test@panel.test", from_year=FROM_YEAR) -> list[str]:
    return ["expert-works", "--experts", str(experts), "--out", str(out), "--from-year", str(from_year),
            "--base-url", server.url, "--rate", "1000", "--mailto", mailto, *more]


def expected_rows(server, experts=EXPERTS) -> list[dict]:
    """The rows the table must hold, from the served records, written out again here."""
    rows = []
    for expert_id, author_id in experts:
        if not author_id:
            continue
        works = {
            short_id(work["id"]): work for work in server.data.works.records
            if (work.get("publication_year") or 0) >= FROM_YEAR
            and short_id(author_id) in {short_id((a.get("author") or {}).get("id")) for a in work["authorships"]}
        }
        rows += [{"expert_id": expert_id, "work_id": work_id, "publication_year": works[work_id]["publication_year"],
                  "authorships": authorships_of(works[work_id])} for work_id in sorted(works)]
    return rows


def read_manifest(out) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.shared_data
def test_fetches_every_experts_works_since_the_year(open_server, main, tmp_path, capsys):
    write_experts(tmp_path / "experts.csv")
    out = tmp_path / "panel"
    assert main(options(open_server, tmp_path / "experts.csv", out)) == 0

    table = pq.read_table(out / "expert_works.parquet")
    assert table.schema.equals(EXPERT_WORKS_SCHEMA) and schema_version(table.schema, "expert_works") == 1
    rows = expected_rows(open_server)
    assert table.to_pylist() == rows
    assert {row["expert_id"] for row in rows} == {"e1", "e2", "e3", "e4", "e5"}
    assert min(row["publication_year"] for row in rows) == FROM_YEAR  # e5's 2012 work, not its 2010 one
    manifest = read_manifest(out)
    assert manifest["status"] == "complete"
    assert manifest["from_year"] == FROM_YEAR and manifest["base_url"] == open_server.url
    assert manifest["experts"][5] == {"expert_id": "e6", "name": "Expert e6", "author_id": None,
                                      "status": "skipped", "reason": "no OpenAlex author id"}
    assert [entry["author_id"] for entry in manifest["experts"][:5]] == [short_id(a) for _, a in EXPERTS[:5]]
    assert all(entry["status"] == "fetched" and entry["pages"] == 1 for entry in manifest["experts"][:5])
    assert manifest["counts"] == {"experts": 6, "fetched": 5, "skipped": 1, "pending": 0, "works": len(rows),
                                  "distinct_works": len({row["work_id"] for row in rows})}
    assert manifest["requests"]["made"] == manifest["requests"]["this_session"]["requests"] == 5
    assert sorted(path.name for path in (out / "state").iterdir()) == [f"expert-e{n}.json" for n in range(1, 6)]
    assert capsys.readouterr().out.strip() == (
        f"{out / 'expert_works.parquet'}: {len(rows)} works of 5 experts since {FROM_YEAR} "
        "(1 skipped without an OpenAlex author id), 5 requests"
    )


@pytest.mark.shared_data
def test_cursor_paging_over_small_pages(server):
    client = OpenAlexClient(server.url, rate=1000)
    whole = fetch_author_works(client, "A5007426895", FROM_YEAR)
    paged = fetch_author_works(client, "A5007426895", FROM_YEAR, per_page=2)
    assert len(whole["works"]) == 6 and whole["pages"] == 1
    assert paged["works"] == whole["works"]
    assert paged["pages"] == paged["requests"] == 3  # the count spares the empty last page


@pytest.mark.shared_data
def test_authorships_are_the_harvest_normalisers(server):
    normalizer = WorkNormalizer(set(), JournalGroupResolver(load_overrides(), {}), load_disciplines())
    for work in server.data.works.records:
        harvested = [{**entry, "is_beijing": None} for entry in normalizer.row(work)["authorships"]]
        assert authorships_of(work) == harvested, work["id"]  # attribution aside


def start(server, experts, out, mailto: str, resume: bool) -> subprocess.Popen:
    command = [sys.executable, "-c", CHILD, *options(server, experts, out, mailto=mailto)]
    return subprocess.Popen(command + (["--resume"] if resume else []), cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_held(gate, process: subprocess.Popen) -> None:
    """Until the run's next page waits at the gate (its previous expert is checkpointed)."""
    deadline = time.monotonic() + 120  # a fail-safe only: the gate holds the run until then
    while gate.held < 1:
        assert process.poll() is None, f"the run ended early: {process.stderr.read()}"
        assert time.monotonic() < deadline, "the run did not reach the gate"
        time.sleep(0.01)


@pytest.fixture
def interruptible_children():
    """Children that take SIGINT as Ctrl-C (a background test run would have them ignore it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.shared_data
def test_an_interrupted_run_resumes_and_skips_the_experts_fetched(open_server, main, interruptible_children,
                                                                   tmp_path):
    experts = tmp_path / "experts.csv"
    write_experts(experts)
    reference = tmp_path / "reference"
    assert main(options(open_server, experts, reference)) == 0

    out = tmp_path / "interrupted"
    # Killed while the second expert's page waits: the first is checkpointed.
    gate = open_server.gate_pages(1, mailto="kill@panel.test")
    process = start(open_server, experts, out, "kill@panel.test", resume=False)
    wait_until_held(gate, process)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    open_server.remove_gate()
    assert read_manifest(out)["status"] == "running"
    assert [p.name for p in (out / "state").glob("expert-*.json")] == ["expert-e1.json"]
    assert not (out / "expert_works.parquet").exists()

    # Ctrl-C while the third expert's page waits: the second is fetched, the first not again.
    gate = open_server.gate_pages(1, mailto="stop@panel.test")
    process = start(open_server, experts, out, "stop@panel.test", resume=True)
    wait_until_held(gate, process)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert "run again with --resume" in process.stderr.read()
    open_server.remove_gate()
    manifest = read_manifest(out)
    assert manifest["status"] == "interrupted"
    assert [entry["status"] for entry in manifest["experts"]] == ["fetched", "fetched", "pending", "pending",
                                                                    "pending", "skipped"]

    counter = open_server.gate_pages(None, mailto="final@panel.test")
    assert main(options(open_server, experts, out, "--resume", mailto="final@panel.test")) == 0
    assert counter.served == 3  # e3, e4, e5
    assert (out / "expert_works.parquet").read_bytes() == (reference / "expert_works.parquet").read_bytes()
    manifest = read_manifest(out)
    assert manifest["status"] == "complete" and "error" not in manifest
    assert manifest["counts"] == read_manifest(reference)["counts"]


@pytest.mark.shared_data
def test_resume_after_the_panel_changed_fetches_only_the_changed_experts(open_server, main, tmp_path):
    experts = tmp_path / "experts.csv"
    write_experts(experts, EXPERTS[:2])
    out = tmp_path / "panel"
    assert main(options(open_server, experts, out)) == 0
    changed = [("e1", EXPERTS[0][1]), ("e2", "A5072262751"), ("e7", "A5052275685")]
    write_experts(experts, changed)
    counter = open_server.gate_pages(None, mailto="again@panel.test")
    assert main(options(open_server, experts, out, "--resume", mailto="again@panel.test")) == 0
    assert counter.served == 2  # e2 under its new author id, and e7
    assert pq.read_table(out / "expert_works.parquet").to_pylist() == expected_rows(open_server, changed)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("setup", "more", "message"),
    [
        ("complete", [], "is not empty; add --resume"),
        ("complete", ["--resume", "--from-year", "2015"], f"holds expert works since {FROM_YEAR}; resume with"),
        ("foreign", ["--resume"], "holds other files than expert works"),
        ("none", ["--from-year", "2999"], "--from-year 2999 is in the future"),
    ],
)
def test_bad_folders_and_years_stop_with_one_line(open_server, main, tmp_path, capsys, setup, more, message):
    experts = tmp_path / "experts.csv"
    write_experts(experts, EXPERTS[:1])
    out = tmp_path / "panel"
    if setup == "complete":
        assert main(options(open_server, experts, out)) == 0
    elif setup == "foreign":
        out.mkdir()
        (out / "notes.txt").write_text("mine\n")
    before = sorted(p.name for p in out.rglob("*")) if out.exists() else None
    capsys.readouterr()
    assert main(options(open_server, experts, out, *more)) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and len(error.splitlines()) == 1
    assert (sorted(p.name for p in out.rglob("*")) if out.exists() else None) == before


@pytest.mark.shared_data
def test_expert_works_feed_the_conflict_check(open_server, main, tmp_path, capsys):
    """Tao Xiang's works since 2018, fetched by author id, show that he co-authored
    W3170841864 (2021) with Xiatian Zhu, an author of the candidate W4376226279 (2023)."""
    experts = tmp_path / "experts.csv"
    write_experts(experts, [("xiang", "A5014436524")])
    out = tmp_path / "panel"
    assert main(options(open_server, experts, out, from_year=2018)) == 0
    candidates = tmp_path / "candidates.parquet"
    survey = open_server.data.works.by_id["w4376226279"]
    row = {"work_id": "W4376226279", "publication_year": 2023, "authorships": authorships_of(survey)}
    pq.write_table(pa.Table.from_pylist([row], schema=CANDIDATES_SCHEMA), candidates)
    conflicts = tmp_path / "conflicts.csv"
    assert main(["conflicts", "--works", str(out / "expert_works.parquet"), "--candidates", str(candidates),
                 "--experts", str(experts), "--out", str(conflicts)]) == 0
    lines = conflicts.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "expert_id,work_id,kind,detail"
    assert "xiang,W4376226279,coauthor,co-authored W3170841864 (2021) with Xiatian Zhu A5028643592" in lines[1]
