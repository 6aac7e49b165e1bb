"""python -m selection enrich through pyalex against the mock server: the counts equal those
computed from the records, a budget stop and resumes give the files of one run, and the
manifest counts every request."""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from selection.enrich import EnrichSettings, enrich, read_enrichment
from selection.enrich import cli as enrich_cli
from selection.enrich import national as national_module
from selection.enrich.folder import SCHEMAS
from selection.enrich.queries import PER_PAGE, TaskLog
from selection.errors import SelectionError
from selection.openalex.client import OpenAlexClient, RetryPolicy
from selection.openalex.mockserver import MockData, MockOpenAlexServer
from selection.schema import short_id
from tests.conftest import shared_data_dir

CITERS = 1200
CONTENTION = 150
FILES = ("topic_growth.parquet", "national_baseline.parquet", "citing.parquet")
CITER_COUNTRIES = ([], ["US"], ["CN"], ["CN", "DE"], ["GB", "FR"], ["JP"], ["CN"], ["US", "CN"])


def _source_id(work: dict) -> str | None:
    source = (work.get("primary_location") or {}).get("source") or {}
    return short_id(source.get("id"))


def _subfield(work: dict) -> int | None:
    topic = work.get("primary_topic") or {}
    return int(topic["subfield"]["id"].rsplit("/", 1)[-1]) if topic.get("subfield") else None


@pytest.fixture(scope="module")
def citing_world(world):
    """The session's synthetic world plus works citing its works, from all over the world
    (copies: the session's records stay as they are), and the real records when present."""
    rng = random.Random(11)
    ids = [work["id"] for work in world.works]
    citers = []
    for k in range(CITERS):
        citer = dict(rng.choice(world.works))
        citer["id"] = f"https://openalex.org/W{8_100_000_000 + k}"
        citer["referenced_works"] = rng.sample(ids, rng.randint(1, 6))
        citer["authorships"] = [
            {"author": {"id": f"https://openalex.org/A{9_100_000_000 + k}"}, "institutions": [],
             "countries": rng.choice(CITER_COUNTRIES)}
        ]
        citers.append(citer)
    synthetic = MockData([*world.works, *citers], world.institutions, world.sources)
    if (shared_data_dir() / "openalex").is_dir():  # the real records too, when the shared data is there
        return MockData.from_shared_data(shared_data_dir(), extra=synthetic)
    return synthetic


@pytest.fixture(scope="module")
def server(citing_world):
    with MockOpenAlexServer(citing_world, daily_budget_usd=1000.0) as running:
        yield running


@pytest.fixture(scope="module")
def inputs(world, tmp_path_factory):
    """A works.parquet of the world's articles and reviews (the columns enrich reads;
    domestic = a source in China) and a contention file."""
    folder = tmp_path_factory.mktemp("enrich_inputs")
    countries = world.source_countries()
    works = [w for w in world.works if w["type"] in ("article", "review")]
    table = pa.table({
        "work_id": [short_id(w["id"]) for w in works],
        "publication_year": pa.array([w["publication_year"] for w in works], pa.int32()),
        "type": [w["type"] for w in works],
        "journal_group": ["domestic" if countries.get(_source_id(w)) == "CN" else "international" for w in works],
        "source_id": [_source_id(w) for w in works],
        "subfield_id": pa.array([_subfield(w) for w in works], pa.int32()),
    })
    pq.write_table(table, folder / "works.parquet")
    contention = folder / "contention.txt"
    chosen = [short_id(w["id"]) for w in works[:: len(works) // CONTENTION]][:CONTENTION]
    contention.write_text("# top of each list\n" + "\n".join(chosen) + "\n\n", encoding="utf-8")
    return folder / "works.parquet", contention, table.to_pandas(), chosen


def client_for(server) -> OpenAlexClient:
    return OpenAlexClient(server.url, rate=2000, retry=RetryPolicy(max_retries=5, backoff=0.01, backoff_cap=0.05))


def settings_for(inputs, **overrides) -> EnrichSettings:
    works_path, contention, _, _ = inputs
    return EnrichSettings(works_path=str(works_path), contention_path=str(contention), **overrides)


@pytest.fixture(scope="module")
def full_run(server, inputs, tmp_path_factory):
    """One enrichment without a budget: its folder, manifest and the server's request count."""
    out = tmp_path_factory.mktemp("enrich") / "full"
    before = server.total_requests()
    manifest = enrich(client_for(server), settings_for(inputs), out)
    return out, manifest, server.total_requests() - before


def _counted(work: dict) -> bool:
    return work["type"] in ("article", "review") and not work.get("is_retracted") and not work.get("is_paratext")


def expected_topics(records, years) -> Counter:
    return Counter(
        (short_id(w["primary_topic"]["id"]), w["publication_year"])
        for w in records if _counted(w) and w.get("primary_topic") and w["publication_year"] in years
    )


def expected_national(records, works, journals: set | None = None) -> Counter:
    domestic = works[works["journal_group"] == "domestic"].dropna(subset=["subfield_id"])
    journals = set(domestic["source_id"]) if journals is None else journals
    pairs = set(zip(domestic["subfield_id"].astype(int), domestic["publication_year"].astype(int), strict=True))
    return Counter(
        (_subfield(w), w["publication_year"], w["cited_by_count"])
        for w in records
        if _counted(w) and _source_id(w) in journals and (_subfield(w), w["publication_year"]) in pairs
    )


def expected_citing(records, work_ids) -> dict:
    citers: dict[str, list[set]] = {work_id: [] for work_id in work_ids}
    for work in records:
        countries = {c for a in work.get("authorships") or [] for c in a.get("countries") or []}
        for cited in work.get("referenced_works") or []:
            if short_id(cited) in citers:
                citers[short_id(cited)].append(countries)
    return {
        work_id: (len(sets), sum(1 for s in sets if "CN" not in s), len(set().union(*sets)))
        for work_id, sets in citers.items()
    }


def test_the_files_hold_the_counts_of_the_records(full_run, citing_world, inputs):
    out, manifest, _ = full_run
    _, _, works, chosen = inputs
    records = citing_world.works.records
    enrichment = read_enrichment(out)
    assert manifest["status"] == "complete" and all(manifest["phases"][p]["done"] for p in ("topics", "national", "citing"))

    years = set(range(int(works["publication_year"].min()), int(works["publication_year"].max()) + 1))
    topics = enrichment.topic_growth
    assert Counter({(t, y): n for t, y, n in topics.itertuples(index=False)}) == expected_topics(records, years)
    assert topics["topic_id"].str.match(r"^T\d+$").all()

    national = enrichment.national_baseline
    got = Counter({(s, y, c): n for s, y, c, n in national.itertuples(index=False)})
    assert got == expected_national(records, works) and len(got) > 100

    citing = enrichment.citing
    assert list(citing["work_id"]) == sorted(chosen)
    expected = expected_citing(records, chosen)
    assert {row[0]: tuple(row[1:]) for row in citing.itertuples(index=False)} == expected
    # The world has every kind: uncited, cited only from China, only from abroad, both.
    kinds = {(n == 0, f == n, f == 0) for n, f, _ in expected.values()}
    assert {(True, True, True), (False, True, False), (False, False, True), (False, False, False)} <= kinds


def test_each_phase_took_the_requests_the_records_call_for(full_run, citing_world, inputs):
    out, manifest, server_requests = full_run
    _, _, works, chosen = inputs
    records = citing_world.works.records
    phases = manifest["phases"]
    assert manifest["requests"]["total"] == server_requests == sum(phases[p]["requests"] for p in phases)

    years = range(int(works["publication_year"].min()), int(works["publication_year"].max()) + 1)
    topics = expected_topics(records, set(years))
    per_year = Counter(year for _, year in topics)
    assert max(per_year.values()) > PER_PAGE  # some years take a second page of groups
    assert phases["topics"]["requests"] == sum(per_year[year] // PER_PAGE + 1 for year in years)

    assert phases["national"]["chunks"] == 1  # ten domestic journals: no screening
    assert phases["national"]["requests"] == phases["national"]["pairs"] == phases["national"]["histogram_tasks"]

    expected = expected_citing(records, chosen)
    needs_count = sum(1 for n, f, _ in expected.values() if 0 < f < n)
    assert phases["citing"]["requests"] == len(chosen) + needs_count
    print(f"\nrequests on the test world: topics {phases['topics']['requests']}, "
          f"national {phases['national']['requests']}, citing {phases['citing']['requests']}")


def test_budget_stops_and_resumes_give_the_files_of_one_run(full_run, server, inputs, tmp_path):
    full, full_manifest, _ = full_run
    out = tmp_path / "budgeted"
    budget = 97
    before = server.total_requests()
    sessions = []
    manifest = enrich(client_for(server), settings_for(inputs, budget=budget), out)
    sessions.append(manifest)
    first = read_enrichment(out)
    assert manifest["status"] == "budget_spent" and manifest["budget"]["spent"]
    assert not manifest["phases"]["national"]["done"] and manifest["phases"]["national"]["skipped_pairs"]
    assert not (out / "topic_growth.parquet").exists() or manifest["phases"]["topics"]["done"]
    assert first.citing["citing_works"].isna().all()  # the budget ran out before the citing phase
    assert manifest["phases"]["citing"]["skipped_works"] == sorted(inputs[3])
    while manifest["status"] != "complete":
        manifest = enrich(client_for(server), settings_for(inputs, budget=budget), out, resume=True)
        sessions.append(manifest)
        assert len(sessions) < 20
    for session in manifest["sessions"]:
        assert session["requests"] <= budget
    assert len(manifest["sessions"]) == len(sessions) > 3
    for name in FILES:
        assert (out / name).read_bytes() == (full / name).read_bytes(), name
    assert server.total_requests() - before == manifest["requests"]["total"]
    for phase in ("topics", "national", "citing"):
        assert manifest["phases"][phase]["requests"] == sum(s.get("requests_by_phase", {}).get(phase, 0)
                                                            for s in manifest["sessions"])
    # A cursor page is never fetched twice: the budgeted runs cost what one run costs.
    assert manifest["requests"]["total"] == full_manifest["requests"]["total"]

    again = enrich(client_for(server), settings_for(inputs), out, resume=True)
    assert again["sessions"][-1]["requests"] == 0 and again["status"] == "complete"


def test_a_budget_stop_in_the_citing_phase_leaves_nulls_and_lists_the_rest(full_run, server, inputs, tmp_path):
    _, full_manifest, _ = full_run
    out = tmp_path / "citing_short"
    before_citing = full_manifest["phases"]["topics"]["requests"] + full_manifest["phases"]["national"]["requests"]
    manifest = enrich(client_for(server), settings_for(inputs, budget=before_citing + 40, workers=1), out)
    citing = read_enrichment(out).citing
    skipped = manifest["phases"]["citing"]["skipped_works"]
    fetched = citing.dropna()
    assert manifest["phases"]["topics"]["done"] and manifest["phases"]["national"]["done"]
    assert 20 <= len(fetched) <= 40 and len(fetched) + len(skipped) == CONTENTION
    assert set(citing[citing["citing_works"].isna()]["work_id"]) == set(skipped)
    assert (fetched["citing_no_china_works"] <= fetched["citing_works"]).all()


def test_several_chunks_of_journals_give_the_same_baseline(full_run, server, inputs, tmp_path, monkeypatch):
    full, _, _ = full_run
    monkeypatch.setattr(national_module, "CHUNK_SIZE", 3)
    out = tmp_path / "chunked"
    manifest = enrich(client_for(server), settings_for(inputs, phases=("national",)), out)
    national = manifest["phases"]["national"]
    assert national["chunks"] == 4 and national["screening_tasks"] > 0
    assert national["histogram_tasks"] < national["pairs"] * national["chunks"]  # empty cells are not asked
    assert (out / "national_baseline.parquet").read_bytes() == (full / "national_baseline.parquet").read_bytes()
    assert manifest["phases"]["topics"]["note"].startswith("not run")


def test_the_national_line_can_take_every_journal_openalex_places_in_china(
    server, citing_world, inputs, tmp_path
):
    """A China-published journal where Beijing published nothing still counts in the national
    line with --national-journals china; listing the journals is paid once, in the budget."""
    works_path, _, works, _ = inputs
    china = {short_id(source["id"]) for source in citing_world.sources.records
             if str(source.get("country_code")).upper() == "CN" and source.get("type") == "journal"}
    in_harvest = set(works.loc[works["journal_group"] == "domestic", "source_id"])
    left_out = sorted(in_harvest)[0]  # Beijing "published nothing" there: drop its works from the harvest
    partial = works[works["source_id"] != left_out]
    pq.write_table(pa.Table.from_pandas(partial, preserve_index=False), tmp_path / "works.parquet")
    records = citing_world.works.records

    by_scope = {}
    for scope in ("harvest", "china"):
        out = tmp_path / scope
        settings = EnrichSettings(works_path=str(tmp_path / "works.parquet"), phases=("national",),
                                  national_journals=scope)
        manifest = enrich(client_for(server), settings, out)
        assert manifest["status"] == "complete" and manifest["phases"]["national"]["journals_scope"] == scope
        national = read_enrichment(out).national_baseline
        by_scope[scope] = Counter({(s, y, c): n for s, y, c, n in national.itertuples(index=False)})
    assert by_scope["harvest"] == expected_national(records, partial)
    assert by_scope["china"] == expected_national(records, partial, china | in_harvest - {left_out})
    assert left_out in china and by_scope["china"] != by_scope["harvest"]
    assert manifest["phases"]["national"]["china_journals"] == len(china)
    assert (tmp_path / "china" / "state" / "china_journals.txt").read_text().split() == sorted(
        china, key=lambda i: int(i[1:]))

    # A resumed run lists nothing again; a budget of one request stops in the listing and says so.
    before = server.total_requests()
    enrich(client_for(server), EnrichSettings(works_path=str(tmp_path / "works.parquet"), phases=("national",),
                                              national_journals="china"), tmp_path / "china", resume=True)
    assert server.total_requests() - before == 0
    stopped = enrich(client_for(server), EnrichSettings(works_path=str(tmp_path / "works.parquet"),
                                                        phases=("national",), national_journals="china", budget=1),
                     tmp_path / "stopped")
    assert stopped["status"] == "budget_spent" and stopped["phases"]["national"]["done"] is False
    assert not (tmp_path / "stopped" / "state" / "china_journals.txt").exists()


def test_read_enrichment_of_an_empty_folder_and_of_wrong_columns(tmp_path):
    enrichment = read_enrichment(tmp_path)
    for name, schema in SCHEMAS.items():
        frame = getattr(enrichment, name)
        assert list(frame.columns) == schema.names and frame.empty
    assert enrichment.manifest == {}
    pq.write_table(pa.table({"topic_id": ["T1"], "year": [2021], "works": [3]}), tmp_path / "topic_growth.parquet")
    with pytest.raises(SelectionError, match="topic_growth.parquet has the columns topic_id, year, works"):
        read_enrichment(tmp_path)
    with pytest.raises(SelectionError, match="is not a folder"):
        read_enrichment(tmp_path / "missing")


def test_a_torn_last_log_line_is_fetched_again_and_a_damaged_one_stops(tmp_path):
    path = tmp_path / "state.jsonl"
    log = TaskLog(path)
    log.record("topics/2021", "*", "next", 10, {"T1": 4}, False)
    log.record("topics/2021", "next", None, 10, {"T2": 6}, True)
    with open(path, "ab") as handle:
        handle.write(b'{"task": "topics/2022", "cur')
    state = TaskLog(path).state("topics/2021")
    assert state.done and state.groups == {"T1": 4, "T2": 6} and state.count == 10
    assert not TaskLog(path).state("topics/2022").done
    path.write_bytes(b"not json\n" + path.read_bytes())
    with pytest.raises(SelectionError, match="damaged at line 1"):
        TaskLog(path)


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    enrich_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["enrich", *argv])
    return args.func(args)


def test_the_command_line_runs_resumes_and_refuses(server, inputs, tmp_path, capsys):
    works_path, contention, _, _ = inputs
    out = tmp_path / "cli"
    common = ["--works", str(works_path), "--out", str(out), "--base-url", server.url, "--rate", "2000"]
    assert _cli([*common, "--phases", "topics"]) == 0
    assert "complete; topics done" in capsys.readouterr().out
    with pytest.raises(SelectionError, match="add --resume"):
        _cli(common)
    assert _cli([*common, "--resume", "--phases", "citing", "--contention", str(contention), "--budget", "5"]) == 0
    line = capsys.readouterr().out
    assert "budget_spent" in line and "--resume" in line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["phases"]["topics"]["done"] and manifest["phases"]["citing"]["requests"] == 5
    with pytest.raises(SelectionError, match="--budget must be at least 1"):
        _cli([*common, "--resume", "--budget", "0"])
    with pytest.raises(SelectionError, match="--phases takes some of"):
        _cli([*common, "--resume", "--phases", "topics,cited"])
    with pytest.raises(SelectionError, match="resume with that --base-url"):
        _cli([*common[:-4], "--base-url", "http://127.0.0.1:9", "--resume"])


def test_bad_inputs_stop_before_anything_is_written(server, inputs, tmp_path):
    works_path, _, _, _ = inputs
    client = client_for(server)
    bad_works = tmp_path / "works.parquet"
    pq.write_table(pa.table({"work_id": ["W1"]}), bad_works)
    with pytest.raises(SelectionError, match="lacks the columns publication_year"):
        enrich(client, EnrichSettings(works_path=str(bad_works)), tmp_path / "a")
    bad_contention = tmp_path / "contention.txt"
    bad_contention.write_text("W12\nS34\n", encoding="utf-8")
    with pytest.raises(SelectionError, match=r"contention.txt:2: 'S34' is not an OpenAlex work id"):
        enrich(client, EnrichSettings(works_path=str(works_path), contention_path=str(bad_contention)), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SelectionError, match="holds other files"):
        enrich(client, EnrichSettings(works_path=str(works_path)), tmp_path / "c")
