"""The editable Beijing institution list and its refresh from /institutions."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from selection.cli import main
from selection.errors import SelectionError
from selection.harvest.scheduler import Harvester
from selection.institutions import (
    COLUMNS,
    InstitutionEntry,
    cached_list_path,
    list_from_server,
    load_institution_list,
    merge_refresh,
    write_institution_list,
)
from selection.openalex.client import OpenAlexClient
from selection.openalex.mockserver import MockData, MockOpenAlexServer
from tests.selection.harvest_helpers import eligible_ids

CAS_HQ = "I19820366"
CAS_OUTSIDE_BEIJING = {"I126520041": "USTC, Hefei", "I18489884": "Kunming Institute of Zoology"}
REAL_GEO_BEIJING = {"I1327237609", "I4210152758", "I4210153022", "I180662265"}


def test_packaged_list_holds_the_main_beijing_institutions():
    entries = load_institution_list()
    for institution_id in ("I99065089", "I20231570", "I82880672", CAS_HQ, "I4210165038", "I78988378"):
        assert entries[institution_id].city == "Beijing"
    assert all(entry.reason in ("geo", "manual") for entry in entries.values())
    assert not set(CAS_OUTSIDE_BEIJING) & set(entries), "CAS institutes outside Beijing must not be listed"
    assert "lineage" in entries[CAS_HQ].note


def write_csv(path, rows):
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["X12,Name,Beijing,geo,"], "not a short OpenAlex id"),
        (["I12,Name,Beijing,lineage,"], "reason 'lineage' must be one of geo, manual"),
        (["I12,A,Beijing,geo,", "I12,B,Beijing,manual,"], "listed twice"),
        ([], "is empty"),
    ],
)
def test_bad_lists_name_the_file_line_and_fix(tmp_path, rows, message):
    with pytest.raises(SelectionError, match=message):
        load_institution_list(write_csv(tmp_path / "list.csv", rows))


def test_missing_column_and_missing_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("institution_id,display_name\nI1,A\n", encoding="utf-8")
    with pytest.raises(SelectionError, match="missing column"):
        load_institution_list(bad)
    with pytest.raises(SelectionError, match="not found"):
        load_institution_list(tmp_path / "absent.csv")


def test_write_then_load_round_trips_sorted_by_numeric_id(tmp_path):
    entries = {
        "I100": InstitutionEntry("I100", "B, with comma", "Beijing", "manual", "note"),
        "I20": InstitutionEntry("I20", "A", "Beijing", "geo"),
    }
    path = tmp_path / "list.csv"
    write_institution_list(entries, path)
    assert load_institution_list(path) == entries
    assert path.read_text().splitlines()[1].startswith("I20,")


def test_refresh_keeps_manual_rows_and_confirms_them_by_geo():
    current = {
        "I1": InstitutionEntry("I1", "Manual only", "Beijing", "manual", "keep me"),
        "I2": InstitutionEntry("I2", "Manual, now geo", "Beijing", "manual", "my note"),
        "I3": InstitutionEntry("I3", "Geo, moved away", "Beijing", "geo"),
    }
    fresh = {
        "I2": InstitutionEntry("I2", "Now geo", "Beijing", "geo"),
        "I4": InstitutionEntry("I4", "New", "Beijing", "geo"),
    }
    merged = merge_refresh(current, fresh)
    assert set(merged) == {"I1", "I2", "I4"}
    assert merged["I1"] == current["I1"]
    assert merged["I2"].reason == "geo" and merged["I2"].note == "my note"


def test_refresh_command_against_the_mock_server(mock_server, tmp_path, shared_data):
    out = tmp_path / "beijing.csv"
    assert main(["institutions", "--out", str(out), "--base-url", mock_server.url]) == 0
    entries = load_institution_list(out)
    geo = {i for i, e in entries.items() if e.reason == "geo"}
    # The real records with geo.city Beijing; synthetic institutions carry no geo.
    assert REAL_GEO_BEIJING <= geo
    assert not set(CAS_OUTSIDE_BEIJING) & set(entries)
    manual = {i for i, e in load_institution_list().items() if e.reason == "manual"}
    assert manual <= set(entries)


def test_a_list_built_from_the_server_is_cached_per_base_url_for_its_age(mock_server, world):
    client = OpenAlexClient(mock_server.url, rate=1000)
    built = list_from_server(client, max_age_days=30)
    assert set(world.beijing_institution_ids) <= set(built.entries)  # the server's Beijing institutions
    manual = {i for i, e in load_institution_list().items() if e.reason == "manual"}
    assert manual <= set(built.entries)  # the packaged list's hand-added rows stay
    assert built.origin == f"built from {mock_server.url}" and built.path == cached_list_path(mock_server.url)
    requests = mock_server.total_requests()
    again = list_from_server(client, max_age_days=30)
    assert mock_server.total_requests() == requests  # from the cache
    assert (again.entries, again.date) == (built.entries, built.date)
    later = dt.datetime.fromisoformat(built.date) + dt.timedelta(days=31)
    rebuilt = list_from_server(client, max_age_days=30, now=later)
    assert mock_server.total_requests() > requests and rebuilt.date == later.isoformat(timespec="seconds")
    assert cached_list_path("http://127.0.0.1:1") != cached_list_path("http://127.0.0.1:2")
    rebuilt.path.with_suffix(".json").write_text("{not json")  # a damaged cache is built anew
    assert list_from_server(client, max_age_days=30).entries == built.entries


def test_a_server_that_places_no_institution_in_beijing_is_refused():
    shanghai = {"id": "https://openalex.org/I1", "display_name": "Fudan University", "country_code": "CN",
                "geo": {"city": "Shanghai"}}
    with MockOpenAlexServer(MockData([], [shanghai], [])) as empty:
        with pytest.raises(SelectionError, match="places no institution in Beijing.*pass --institutions FILE"):
            list_from_server(OpenAlexClient(empty.url, rate=1000), max_age_days=30)
        assert not cached_list_path(empty.url).exists()


def test_a_harvest_without_a_list_file_builds_it_from_the_server_and_keeps_it_on_resume(
    mock_server, mock_data, world, harvest_inputs, tmp_path, monkeypatch, capsys
):
    """Acceptance: the server's Beijing institutions that the packaged list lacks count."""
    out = tmp_path / "harvest"
    command = [
        "harvest", "--from-year", "2021", "--to-year", "2025", "--out", str(out), "--base-url", mock_server.url,
        "--journal-overrides", str(harvest_inputs.overrides), "--batch-size", "6", "--split-above", "200",
        "--rate", "1000", "--quiet",
    ]

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    fetch_pages = Harvester.run
    monkeypatch.setattr(Harvester, "run", interrupted)
    assert main(command) == 130
    first = json.loads((out / "manifest.json").read_text())
    assert first["status"] == "interrupted" and first["institutions"]["list"] == f"built from {mock_server.url}"
    monkeypatch.setattr(Harvester, "run", fetch_pages)

    def not_again(client):
        raise AssertionError("a resumed harvest must use the list of the run it continues")

    monkeypatch.setattr("selection.institutions.beijing_institutions_from_openalex", not_again)
    monkeypatch.setenv("SELECTION_CACHE_DIR", str(tmp_path / "empty cache"))  # nothing cached either
    assert main([*command, "--resume", "--institutions-max-age-days", "0"]) == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["institutions"]
    assert record == first["institutions"]
    assert record["size"] == len(load_institution_list(out / "state" / "institutions.csv")) and record["date"]
    used = set(load_institution_list(out / "state" / "institutions.csv"))
    ids = set(pq.read_table(out / "works.parquet", columns=["work_id"])["work_id"].to_pylist())
    assert ids == eligible_ids(mock_data, used) and ids >= world.eligible_work_ids
    # The packaged list alone would have missed the server's own Beijing institutions' works.
    assert not world.eligible_work_ids & eligible_ids(mock_data, set(load_institution_list()))
