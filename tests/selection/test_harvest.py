"""The harvest against the mock server: exactly the eligible works, faults, bad input."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.errors import SelectionError
from selection.harvest.folder import HarvestDir, prepare_output
from selection.harvest.normalize import COUNTED_COLUMNS, table_counts
from selection.harvest.partitions import Partition
from selection.schema import WORKS_SCHEMA, WORKS_SCHEMA_VERSION, schema_version, short_id
from tests.selection.harvest_helpers import FROM_YEAR, eligible_ids, run


def test_harvest_returns_exactly_the_works_that_satisfy_the_rules(clean_run, mock_data, harvest_inputs, world):
    out, manifest = clean_run
    table = pq.read_table(out / "works.parquet")
    ids = table["work_id"].to_pylist()
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert table.schema.equals(WORKS_SCHEMA) and schema_version(table.schema, "works") == WORKS_SCHEMA_VERSION
    lengths = pc.list_value_length(table["authorships"]).to_pylist()
    assert lengths == table["authors_count"].to_pylist() and min(lengths) > 0
    assert set(ids) == eligible_ids(mock_data, harvest_inputs.beijing_ids)
    # The synthetic draw's own answer agrees; each trap kind is left out.
    assert set(ids) >= world.eligible_work_ids
    for kind, trap_ids in world.traps.items():
        if kind == "two_beijing_institutions":
            assert set(trap_ids) <= set(ids)
        else:
            assert not set(trap_ids) & set(ids), kind
    assert manifest["counts"]["duplicates_removed"] > 0  # works under two institution batches
    assert manifest["counts"]["failing_the_rules_removed"] == 0  # the server applied every filter
    assert manifest["partitions"]["split"] > 0
    assert manifest["status"] == "complete"


def test_works_reached_only_through_the_cas_lineage_are_left_out(clean_run, mock_data, harvest_inputs, shared_data):
    """Real USTC and Kunming records are linked to CAS (I19820366) only through lineage."""
    out, _ = clean_run
    ids = set(pq.read_table(out / "works.parquet", columns=["work_id"])["work_id"].to_pylist())
    through_lineage_only = []
    for work in mock_data.works.records:
        institutions = [i for a in work.get("authorships") or [] for i in a.get("institutions") or []]
        direct = {short_id(i["id"]) for i in institutions}
        lineage = {short_id(x) for i in institutions for x in i.get("lineage") or []}
        if "I19820366" in lineage and not direct & harvest_inputs.beijing_ids:
            through_lineage_only.append(short_id(work["id"]))
    assert through_lineage_only
    assert not set(through_lineage_only) & ids


def test_manifest_reports_query_counts_requests_credits_and_missing_fields(clean_run, shared_data):
    out, manifest = clean_run
    assert json.loads((out / "manifest.json").read_text()) == manifest
    counts = manifest["counts"]
    # The same counts as the snapshot import's manifest, from the same function.
    assert {key: counts[key] for key in COUNTED_COLUMNS} == table_counts(pq.read_table(out / "works.parquet"))
    assert list(counts["by_discipline"])[-1] == "null"  # works outside the disciplines come last
    assert sum(counts["by_year"].values()) == counts["works"]
    assert set(counts["by_journal_group"]) == {"domestic", "international"}
    assert set(counts["by_journal_group_rule"]) >= {"override", "source_country"}
    assert sum(counts["by_discipline"].values()) == counts["works"]
    # The real records lack fields (no publication_date, no topics in the RAG sample).
    assert counts["missing_fields"]["publication_date: absent"] > 0
    assert counts["missing_fields"]["primary_topic: absent"] > 0
    assert manifest["requests"]["made"] >= manifest["partitions"]["pages"]
    assert manifest["credits"]["cost_usd"] > 0
    assert "X-RateLimit-Remaining-USD" in manifest["credits"]["rate_limit_headers"]
    assert manifest["duration_seconds"] > 0
    assert "authorships.institutions.id:" in manifest["query"]["first_partition_url"]
    assert manifest["settings"]["from_year"] == FROM_YEAR
    assert len(list((out / "raw").glob("*.jsonl.gz"))) == manifest["partitions"]["pages"]


def test_twenty_percent_failures_give_the_same_result(clean_run, mock_server, harvest_inputs, tmp_path):
    mock_server.faults.failure_rate = 0.2
    mock_server.faults.truncate_rate = 0.03
    manifest = run(mock_server, harvest_inputs, tmp_path / "faulty")
    clean = pq.read_table(clean_run[0] / "works.parquet")
    assert pq.read_table(tmp_path / "faulty" / "works.parquet").equals(clean)
    failures = manifest["requests"]["this_session"]["failures"]
    assert failures["HTTP 429"] > 0 and failures["HTTP 500"] > 0
    assert manifest["requests"]["retries"] > 0


def test_a_server_ignoring_a_filter_does_not_leak_works(clean_run, mock_server, harvest_inputs, tmp_path, monkeypatch):
    def without_journal_filter(client, institution_ids, partition):
        return (
            client.works()
            .filter_or(**{"authorships.institutions.id": list(institution_ids), "type": ["article", "review"]})
            .filter(publication_year=partition.year, from_publication_date=partition.date_from,
                    to_publication_date=partition.date_to)
        )

    monkeypatch.setattr("selection.harvest.scheduler.works_query", without_journal_filter)
    manifest = run(mock_server, harvest_inputs, tmp_path / "leaky")
    assert manifest["counts"]["failing_the_rules_removed"] > 0
    clean = pq.read_table(clean_run[0] / "works.parquet", columns=["work_id"])
    assert pq.read_table(tmp_path / "leaky" / "works.parquet", columns=["work_id"]).equals(clean)


def test_disciplines_option_keeps_only_those(mock_server, harvest_inputs, tmp_path):
    manifest = run(mock_server, harvest_inputs, tmp_path / "maths", disciplines=("mathematics", "physics"))
    table = pq.read_table(tmp_path / "maths" / "works.parquet")
    assert set(table["discipline"].to_pylist()) == {"mathematics", "physics"}
    assert manifest["counts"]["outside_disciplines_removed"] > 0


def test_partition_split_covers_its_range_without_overlap():
    parent = Partition(2024, 3, "2024-01-01", "2024-12-31")
    parts = parent.split(7)
    assert parts[0].date_from == "2024-01-01" and parts[-1].date_to == "2024-12-31"
    for before, after in zip(parts, parts[1:]):
        assert dt.date.fromisoformat(before.date_to) + dt.timedelta(days=1) == dt.date.fromisoformat(after.date_from)
    assert sum(p.days() for p in parts) == parent.days() == 366
    assert len(Partition(2024, 0, "2024-05-01", "2024-05-02").split(10)) == 2


def cli(capsys, *args) -> tuple[int, list[str]]:
    code = main(["harvest", *args])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(
    ("years", "fix"),
    [
        (("2025", "2021"), "swap them"),
        (("2021", str(dt.date.today().year + 1)), "is in the future"),
        (("2015", "2025"), "choose 3 to 5"),
        (("2024", "2025"), "choose 3 to 5"),
    ],
)
def test_bad_year_ranges_are_one_line_errors_and_leave_no_output(capsys, tmp_path, years, fix):
    out = tmp_path / "out"
    code, err = cli(capsys, "--from-year", years[0], "--to-year", years[1], "--out", str(out))
    assert code == 2 and len(err) == 1 and fix in err[0]
    assert not out.exists()


def test_unknown_discipline_lists_the_valid_keys(capsys, tmp_path):
    out = tmp_path / "out"
    code, err = cli(capsys, "--from-year", "2021", "--to-year", "2025", "--out", str(out), "--disciplines", "maths")
    assert code == 2 and len(err) == 1
    assert "unknown discipline maths" in err[0] and "mathematics" in err[0]
    assert not out.exists()


def test_bad_api_key_is_one_line_and_the_output_does_not_look_complete(capsys, mock_server, harvest_inputs, tmp_path):
    mock_server.api_key = "right"
    out = tmp_path / "out"
    code, err = cli(
        capsys, "--from-year", "2021", "--to-year", "2025", "--out", str(out), "--base-url", mock_server.url,
        "--api-key", "wrong", "--institutions", str(harvest_inputs.institutions), "--quiet",
    )
    assert code == 2 and len(err) == 1 and "--api-key" in err[0]
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
    assert not (out / "works.parquet").exists()


def test_unreachable_base_url_is_one_line_naming_the_option(capsys, tmp_path):
    out = tmp_path / "out"
    code, err = cli(capsys, "--from-year", "2021", "--to-year", "2025", "--out", str(out),
                    "--base-url", "http://127.0.0.1:9", "--quiet")
    assert code == 2 and len(err) == 1 and "--base-url" in err[0]
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
    assert not (out / "works.parquet").exists()


def test_output_folder_rules(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not a harvest")
    with pytest.raises(SelectionError, match="holds other files"):
        prepare_output(HarvestDir(tmp_path / "other"), resume=True)
    out = HarvestDir(tmp_path / "h")
    prepare_output(out, resume=False)
    (out.root / "manifest.json").write_text(json.dumps({"status": "failed"}))
    with pytest.raises(SelectionError, match="add --resume"):
        prepare_output(out, resume=False)
    prepare_output(out, resume=True)
    (out.root / "manifest.json").write_text(json.dumps({"status": "complete"}))
    with pytest.raises(SelectionError, match="already holds a complete harvest"):
        prepare_output(out, resume=True)
