"""Selection rounds: a real ranking output (synthetic works ranked by the library) imported by
the command line and by upload, once; the refusals; the pages in Chinese; the export; who may."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels import views
from conference_app.panels.models import Candidate, SelectionRound
from selection.cli import main as selection_main
from selection.schema import CHART_FILES
from selection.synthetic.table import works_table
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import statements_for


@pytest.fixture(scope="module")
def ranking_output(tmp_path_factory) -> Path:
    """The output folder of ``python -m selection rank`` over 20,000 synthetic works (about 2,400 candidates)."""
    folder = tmp_path_factory.mktemp("ranking")
    pq.write_table(works_table(20000, seed=1), folder / "works.parquet")
    assert selection_main(["rank", "--works", str(folder / "works.parquet"), "--out", str(folder / "out"),
                           "--per-group", "200"]) == 0
    return folder / "out"


@pytest.fixture(scope="module")
def other_output(ranking_output, tmp_path_factory) -> Path:
    """Another ranking (another seed): another candidates file."""
    folder = tmp_path_factory.mktemp("ranking-other")
    pq.write_table(works_table(6000, seed=2), folder / "works.parquet")
    assert selection_main(["rank", "--works", str(folder / "works.parquet"), "--out", str(folder / "out"),
                           "--per-group", "200"]) == 0
    return folder / "out"


def zipped(folder: Path, prefix: str = "out/") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("candidates.parquet", "summary.json", *CHART_FILES):
            archive.write(folder / name, prefix + name)
    buffer.seek(0)
    return buffer


def run_import(app, folder: Path, name: str):
    return app.test_cli_runner().invoke(args=["selection", "import", "--candidates", str(folder / "candidates.parquet"),
                                              "--round", name])


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def analyst(make_user):
    return make_user(Role.ANALYST)


@pytest.fixture()
def imported(app, ranking_output) -> SelectionRound:
    result = run_import(app, ranking_output, "2026年第一轮")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return db.session.scalar(select(SelectionRound))


def test_the_command_imports_a_ranking_output_once(app, ranking_output):
    table = pq.read_table(ranking_output / "candidates.parquet")
    result = run_import(app, ranking_output, "2026年第一轮")
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and f"{table.num_rows} candidates" in result.output
    assert count(Candidate) == table.num_rows
    selection_round = db.session.scalar(select(SelectionRound))
    assert selection_round.candidate_count == table.num_rows and selection_round.settings["per_group"] == 200
    for chart in CHART_FILES:
        stored = Path(app.config["UPLOAD_DIR"]) / selection_round.charts_dir / chart
        assert stored.read_bytes() == (ranking_output / chart).read_bytes()
    (entry,) = db.session.scalars(select(AuditEntry).filter_by(action="selection_round.imported"))
    assert entry.details["candidates"] == table.num_rows and entry.details["lists"] == len(selection_round.lists)
    first = table.slice(0, 1).to_pylist()[0]
    row = db.session.scalar(select(Candidate).filter_by(work_id=first["work_id"]))
    assert row.score == first["score"] and row.score_parts == first["score_parts"]
    assert row.authorships == first["authorships"]

    again = run_import(app, ranking_output, "另一个名字")
    assert again.exit_code == 0, again.output
    assert "already imported as round 2026年第一轮" in again.output
    assert count(SelectionRound) == 1 and count(Candidate) == table.num_rows and count(AuditEntry) == 1


def test_another_file_under_a_taken_name_is_refused(app, imported, other_output):
    result = run_import(app, other_output, imported.name)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "已存在" in result.output
    assert count(SelectionRound) == 1


def test_a_tampered_candidates_file_is_refused_and_nothing_is_written(app, ranking_output, tmp_path):
    tampered = tmp_path / "tampered"
    shutil.copytree(ranking_output, tampered)
    table = pq.read_table(tampered / "candidates.parquet")
    pq.write_table(table.slice(1), tampered / "candidates.parquet")  # same schema, one row fewer
    result = run_import(app, tampered, "篡改")
    assert result.exit_code == 1
    assert "summary.json" in result.output and "SHA-256" in result.output and "不" in result.output
    (tampered / "candidates.parquet").unlink()
    missing = run_import(app, tampered, "缺文件")
    assert missing.exit_code == 1 and "candidates.parquet" in missing.output
    assert count(SelectionRound) == 0 and count(Candidate) == 0 and count(AuditEntry) == 0


def test_an_analyst_uploads_a_zip_once(app, client, analyst, ranking_output, no_csrf):
    log_in_session(client, analyst)
    assert "导入排名结果" in client.get("/panels/rounds/import").get_data(as_text=True)
    response = client.post("/panels/rounds/import", data={"name": "上传轮次", "file": (zipped(ranking_output), "rank.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    selection_round = db.session.scalar(select(SelectionRound))
    assert selection_round.name == "上传轮次" and selection_round.created_by_id == analyst.id
    assert selection_round.source_folder == "rank.zip"
    total = count(Candidate)
    again = client.post("/panels/rounds/import", data={"name": "又一次", "file": (zipped(ranking_output, ""), "x.zip")},
                        content_type="multipart/form-data")
    assert again.status_code == 302 and again.location.endswith(f"/panels/rounds/{selection_round.id}")
    assert count(SelectionRound) == 1 and count(Candidate) == total
    refused = client.post("/panels/rounds/import", data={"name": "坏文件", "file": (io.BytesIO(b"not a zip"), "x.zip")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and ".zip" in refused.get_data(as_text=True)
    assert count(SelectionRound) == 1


def test_the_overview_shows_the_lists_shortfalls_and_charts(app, client, analyst, imported):
    log_in_session(client, analyst)
    page = client.get(f"/panels/rounds/{imported.id}").get_data(as_text=True)
    assert "按学科和期刊组的名单" in page and "数学" in page and "国内期刊" in page and "国际期刊" in page
    shortfalls = imported.summary["shortfalls"]
    assert page.count('data-testid="shortfall"') == len(shortfalls)
    assert f"缺 {shortfalls[0]['shortfall']} 篇" in page
    chart = client.get(f"/panels/rounds/{imported.id}/charts/topic_shares.png")
    assert chart.status_code == 200 and chart.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/panels/rounds/{imported.id}/charts/summary.json").status_code == 404
    assert client.get(f"/panels/rounds/{imported.id}/lists/nothing/domestic").status_code == 404


def test_the_candidate_page_explains_its_score_in_chinese(app, client, analyst, imported):
    log_in_session(client, analyst)
    candidate = db.session.scalar(select(Candidate).where(Candidate.beijing_first.is_(True)).order_by(Candidate.id))
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert "为何得此分数" in page and f"{candidate.score:.3f}" in page
    for part, name in zip(candidate.score_parts, ("国际影响力", "热度", "前沿性", "原创性")):
        assert part["indicator"] in ("influence", "hot", "frontier", "originality")
        assert name in page
        assert f"{part['weight'] * 100:.1f}%" in page and f"{part['percentile'] * 100:.1f}%" in page
        assert f"{part['contribution']:.3f}" in page
    assert f"期刊组（{candidate.journal_group.title}）和类型（" in page  # the stratum may be pooled upward (v3)
    assert f"的 {candidate.stratum_works} 篇参评北京论文中计算" in page
    assert "北京第一作者" in page and 'data-beijing="1"' in page
    assert f"https://doi.org/{candidate.doi}" in page and f"https://openalex.org/{candidate.work_id}" in page


def test_the_list_filters_pages_and_exports(app, client, analyst, imported):
    log_in_session(client, analyst)
    entry = max(imported.lists, key=lambda item: item["selected"])
    base = f"/panels/rounds/{imported.id}/lists/{entry['discipline']}/{entry['journal_group']}"
    page = client.get(base).get_data(as_text=True)
    assert f"共 {entry['selected']} 篇候选论文" in page
    borderline = db.session.scalar(select(func.count()).select_from(Candidate).where(
        Candidate.round_id == imported.id, Candidate.discipline == entry["discipline"],
        Candidate.journal_group == entry["journal_group"], Candidate.stability == "borderline"))
    filtered = client.get(base + "?stability=borderline").get_data(as_text=True)
    assert f"共 {borderline} 篇候选论文" in filtered
    assert "export.xlsx?stability=borderline" in filtered
    response = client.get(base + "/export.xlsx?stability=borderline")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "得分", "OpenAlex 论文") and len(rows) == borderline + 1
    assert all(row[rows[0].index("稳定性")] == "临界" for row in rows[1:])


def test_the_candidates_list_issues_the_same_statements_for_20_and_200_candidates(
        app, client, analyst, imported, monkeypatch):
    log_in_session(client, analyst)
    entry = next(item for item in imported.lists if item["selected"] >= 200)
    url = f"/panels/rounds/{imported.id}/lists/{entry['discipline']}/{entry['journal_group']}"
    monkeypatch.setattr(views, "PER_PAGE", 20)
    few = statements_for(client, url)
    assert client.get(url).get_data(as_text=True).count("/panels/candidates/") == 20
    monkeypatch.setattr(views, "PER_PAGE", 200)
    assert client.get(url).get_data(as_text=True).count("/panels/candidates/") == 200
    assert statements_for(client, url) == few


@pytest.mark.parametrize("role", [Role.SOCIETY, Role.EXPERT])
def test_societies_and_experts_may_not(app, client, make_user, make_organisation, imported, role):
    user = make_user(role, organisation=make_organisation() if role == Role.SOCIETY else None)
    log_in_session(client, user)
    candidate = db.session.scalar(select(Candidate).limit(1))
    for url in ("/panels/rounds/", "/panels/rounds/import", f"/panels/rounds/{imported.id}",
                f"/panels/rounds/{imported.id}/charts/topic_shares.png", f"/panels/candidates/{candidate.id}",
                f"/panels/rounds/{imported.id}/lists/{candidate.discipline}/{candidate.journal_group}/export.xlsx"):
        assert client.get(url).status_code == 403, url


def test_staff_see_the_rounds(app, client, make_user, imported):
    log_in_session(client, make_user(Role.STAFF))
    page = client.get("/panels/rounds/").get_data(as_text=True)
    assert imported.name in page and "遴选轮次" in page
