"""The candidate dossier (candidates schema version 3) as the panel sees it: a real ranking
output imported keeps the new columns as plain JSON; the candidate page shows the abstract,
keywords, topics, the authors with their institutions and Beijing marks, the citations with
their world flags, the citing side, the journal's imported tier and warning, the links and the
funders, and says against what each figure is measured and what the gate means (Chinese by
default, English on request); a blind review page shows none of what identifies the work, an
open one shows it all; the list export has the new columns; no statement per row."""

from __future__ import annotations

import html
import io
import json
import math

import pyarrow.parquet as pq
import pytest
from flask_migrate import upgrade
from openpyxl import load_workbook
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import undefer

from conference_app import create_app
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.panels import review, services, views
from conference_app.panels.models import (
    DOSSIER_FIELDS,
    Admission,
    Baseline,
    Candidate,
    Review,
    ReviewRound,
    SelectionRound,
    StratumLevel,
    Track,
)
from selection.schema import ADMISSIONS, BASELINES, CANDIDATE_COLUMNS, STRATUM_LEVELS, TRACKS
from tests.app.conftest import app_settings, log_in_session
from tests.app.core.test_query_counts import statements_for
from tests.app.panels.conftest import import_round

# What an importer of journal lists, Web of Science records and the citing side would have
# written into a candidate's row (the synthetic ranking has none of them).
IMPORTED = {
    "cn_number": "11-1234/Q",
    "journal_catalogues": ["CSCD-2025", "北大核心-2023"],
    "journal_tier": "中科院分区-2025: 1区 Top",
    "journal_warning": "国际期刊预警名单-2025: 中",
    "wos_times_cited": 321,
    "esi_highly_cited": True,
    "esi_hot_paper": True,
    "citing_works": 57,
    "citing_foreign_share": 0.4,
    "citing_countries": 12,
    "record_sources": ["openalex", "wos:导出记录-某大学.txt"],
}


@pytest.fixture()
def analyst(make_user):
    return make_user(Role.ANALYST)


@pytest.fixture()
def imported(app, review_ranking_output) -> SelectionRound:
    return import_round(app, review_ranking_output)


def set_dossier(candidate: Candidate, **values) -> None:
    candidate.dossier = {**candidate.dossier, **values}
    db.session.commit()
    db.session.expire_all()


def with_full_dossier(selection_round: SelectionRound) -> Candidate:
    """A candidate with a DOI, an abstract, keywords, funders, an open-access link and a
    Beijing author whose institutions are named."""
    for candidate in db.session.scalars(select(Candidate).where(Candidate.round_id == selection_round.id)
                                        .options(undefer(Candidate.dossier)).order_by(Candidate.id)):
        d = candidate.dossier
        if (candidate.doi and d["abstract"] and d["keywords"] and d["funders"] and d["oa_url"] and d["topic_names"]
                and any(a["is_beijing"] and a["institution_names"] for a in candidate.authorships)):
            return candidate
    raise AssertionError("the synthetic ranking has no candidate with a full dossier")


def test_the_import_keeps_the_v3_columns_as_plain_json(app, review_ranking_output):
    table = pq.read_table(review_ranking_output / "candidates.parquet")
    selection_round = import_round(app, review_ranking_output)
    assert DOSSIER_FIELDS == CANDIDATE_COLUMNS[CANDIDATE_COLUMNS.index("authorships") + 1:]
    assert {"abstract", "admission", "world_top_1pct", "citing_foreign_share", "consortium"} <= set(DOSSIER_FIELDS)
    expected = {(row["work_id"], row["discipline"], row["journal_group"]): row for row in table.to_pylist()}
    stored = db.session.scalars(select(Candidate).where(Candidate.round_id == selection_round.id)
                                .options(undefer(Candidate.dossier)))
    count = 0
    for candidate in stored:
        row = expected[candidate.work_id, candidate.discipline, str(candidate.journal_group)]
        assert list(candidate.dossier) == list(DOSSIER_FIELDS)
        for name in DOSSIER_FIELDS:
            value = row[name]
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            assert candidate.dossier[name] == value, name
        json.dumps(candidate.dossier, allow_nan=False)  # PostgreSQL's JSON has no NaN
        assert candidate.authorships == row["authorships"]
        assert all("baseline" in part for part in candidate.score_parts)
        count += 1
    assert count == table.num_rows
    assert services.plain_json({"a": [float("nan"), 1.5, float("inf")], "b": None}) == {"a": [None, 1.5, None],
                                                                                         "b": None}


def test_the_candidate_page_shows_the_dossier_in_chinese(app, client, analyst, imported):
    candidate = with_full_dossier(imported)
    d = candidate.dossier
    log_in_session(client, analyst)
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert html.escape(d["abstract"]) in page
    assert all(html.escape(keyword) in page for keyword in d["keywords"])
    assert html.escape(d["topic_names"][0]) in page
    assert all(html.escape(funder) in page for funder in d["funders"])
    assert f'href="{html.escape(d["oa_url"])}"' in page and 'data-testid="oa-link"' in page
    assert f"https://doi.org/{candidate.doi}" in page
    beijing = next(a for a in candidate.authorships if a["is_beijing"] and a["institution_names"])
    assert html.escape(beijing["institution_names"][0]) in page
    assert page.count('data-beijing="1"') == sum(bool(a["is_beijing"]) for a in candidate.authorships)
    assert 'data-testid="first-author"' in page
    # the figures say what they are measured against
    assert "全球范围：在全球同领域同年份论文中（OpenAlex）" in page
    assert "北京论文中前" in page and "并非全球位次" in page
    level = {"subfield": "子领域和发表年份", "field": "领域和发表年份", "discipline": "学科和发表年份",
             "all_disciplines": "全部学科和发表年份"}[d["stratum_level"]]
    assert f"百分位在同一{level}" in page and "不是全球排名" in page
    baseline_zh = {"world": "全球同领域同年份论文", "national": "全国中文/国内期刊同子领域同年份论文（全国）",
                   "beijing": "本分层内的北京论文", "harvest": "本次采集的北京论文"}
    for part in candidate.score_parts:
        if part["has_value"]:
            assert f"指标值对照{baseline_zh[part['baseline']]}" in page
    # the admission and what the gate means
    admission_zh = {"world_top_1pct": "全球前1%论文（优先入选）", "national_top_1pct": "国内期刊全国前1%论文（优先入选）",
                    "gate": "达到门槛"}[d["admission"]]
    assert "入选依据" in page and admission_zh in page
    share = f"{imported.settings['eligibility_top_share'] * 100:g}%"
    assert f"至少一项位于前 {share}" in page and "原创性不能单独达到门槛" in page
    # nothing of the citing side was fetched, no journal list imported
    assert d["citing_works"] is None and "未获取" in page
    assert 'data-testid="journal-warning"' not in page and "未导入" in page
    assert "的作者署名为北京单位" in page


def test_the_world_flags_and_what_was_imported_are_shown(app, client, analyst, imported):
    log_in_session(client, analyst)
    top = db.session.scalars(select(Candidate).where(Candidate.round_id == imported.id)
                             .options(undefer(Candidate.dossier))).all()
    world_top = [candidate for candidate in top if candidate.dossier["world_top_1pct"]]
    assert world_top, "the synthetic ranking has no world top 1% candidate"
    candidate = next((c for c in world_top if c.dossier["admission"] == "world_top_1pct"), world_top[0])
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert 'data-testid="world-top-1pct"' in page and "全球前 1%" in page
    if candidate.dossier["admission"] == "world_top_1pct":
        assert "在全球同领域同年份论文中按被引位列前 1%" in page

    set_dossier(candidate, **IMPORTED, consortium=True)
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert 'data-testid="journal-warning"' in page and html.escape(IMPORTED["journal_warning"]) in page
    assert "中科院分区-2025: 1区 Top" in page and "11-1234/Q" in page and "CSCD-2025; 北大核心-2023" in page
    assert "被引 321 次" in page and "ESI 高被引论文" in page and "ESI 热点论文" in page
    assert "数据来自 Web of Science" in page
    assert "施引文献 57 篇" in page and "其中 40.0% 无中国作者" in page and "施引作者来自 12 个国家" in page
    assert 'data-testid="consortium"' in page and "大合作论文" in page
    listed = client.get(f"/panels/rounds/{imported.id}/lists/{candidate.discipline}/{candidate.journal_group}"
                        f"?q={candidate.work_id}").get_data(as_text=True)
    assert 'data-testid="journal-warning"' in listed and "全球前 1%" in listed
    assert "原创性不能单独达到门槛" in listed


def test_the_warning_line_tells_an_unlisted_journal_from_no_journal_table(app, client, analyst, imported):
    """Without a journal table the page must not claim a journal is on no warning list."""
    log_in_session(client, analyst)
    candidate = with_full_dossier(imported)
    set_dossier(candidate, journal_warning=None)
    assert imported.summary["evidence"]["journal_table"] is False  # the synthetic ranking had none
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert 'data-testid="no-journal-table"' in page and "本次排名未导入期刊表" in page
    assert "未列入已导入的预警名单" not in page

    selection_round = db.session.get(SelectionRound, imported.id)
    selection_round.summary = {**selection_round.summary, "evidence": {**selection_round.summary["evidence"],
                                                                       "journal_table": True}}
    db.session.commit()
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert 'data-testid="no-journal-table"' not in page and "未列入已导入的预警名单" in page


def test_an_english_reader_reads_the_explanations_in_english(app, client, make_user, imported):
    candidate = with_full_dossier(imported)
    log_in_session(client, make_user(Role.ANALYST, locale="en"))
    page = client.get(f"/panels/candidates/{candidate.id}").get_data(as_text=True)
    assert "Passing the gate means: among the Beijing papers of its stratum" in page
    assert "Originality cannot pass the gate alone." in page
    assert "a standing among Beijing papers, not a world rank" in page
    assert "in the world: among papers of the same field and year (OpenAlex)" in page
    assert "达到门槛" not in page and "摘要" not in page


def test_a_round_imported_before_version_3_still_shows_its_candidates(app, client, analyst, imported):
    candidate = db.session.scalar(select(Candidate).where(Candidate.beijing_first.is_(True)).order_by(Candidate.id))
    candidate.dossier = {}
    candidate.score_parts = [{key: value for key, value in part.items() if key != "baseline"}
                             for part in candidate.score_parts]
    candidate.authorships = [{key: value for key, value in authorship.items()
                              if key not in ("is_beijing", "institution_names")} for authorship in candidate.authorships]
    db.session.commit()
    log_in_session(client, analyst)
    response = client.get(f"/panels/candidates/{candidate.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="no-dossier"' in page
    assert "北京第一作者" in page and "指标值对照" not in page and "百分位在同一子领域和发表年份" in page


def identifying_strings(candidates: list[Candidate]) -> set[str]:
    """What a blind round hides: authors, their institutions (ids and names), funders, the
    journal and its imported details, the DOI, the open-access link, the record sources."""
    secrets = set()
    for candidate in candidates:
        for authorship in candidate.authorships or []:
            secrets.add(authorship.get("name") or "")
            secrets.update(authorship.get("institution_ids") or [])
            secrets.update(authorship.get("institution_names") or [])
        d = candidate.dossier
        secrets.update(d.get("funders") or [])
        secrets.update(d.get("journal_catalogues") or [])
        secrets.update(source for source in d.get("record_sources") or () if ":" in source)
        secrets.update((candidate.source_name or "", candidate.doi or "", d.get("oa_url") or "",
                        d.get("cn_number") or "", d.get("journal_tier") or "", d.get("journal_warning") or ""))
    return {secret for secret in secrets if secret.strip()}


def leaked(text: str, secrets: set[str]) -> list[str]:
    return sorted(secret for secret in secrets if secret in text or html.escape(secret) in text)


def reviews_of(review_round: ReviewRound, user) -> list[Review]:
    return list(db.session.scalars(select(Review).filter_by(review_round_id=review_round.id, user_id=user.id)
                                   .order_by(Review.position)))


def test_a_blind_review_page_shows_the_abstract_and_citations_but_nothing_identifying(
        app, client, open_panel, five_experts):
    triage = review.create_round(open_panel, "triage", five_experts[0], blind=True)
    db.session.commit()
    expert = five_experts[1]
    mine = reviews_of(triage, expert)
    for item in mine[:3]:
        set_dossier(item.candidate, **IMPORTED)
    mine = reviews_of(triage, expert)
    secrets = identifying_strings([item.candidate for item in mine])
    assert {IMPORTED["journal_warning"], "wos:导出记录-某大学.txt"} <= secrets
    assert any(funder in secrets for item in mine for funder in item.candidate.dossier["funders"] or ())
    assert any(name in secrets for item in mine for a in item.candidate.authorships for name in a["institution_names"])
    log_in_session(client, expert)
    shown_abstracts = 0
    for item in mine:
        text = client.get(f"/panels/reviews/{item.id}").get_data(as_text=True)
        assert leaked(text, secrets) == [], item.candidate.work_id
        assert 'data-testid="blind-notice"' in text and item.candidate.work_id not in text
        assert 'data-testid="journal-details"' not in text and 'data-testid="authors-table"' not in text
        assert 'data-testid="oa-link"' not in text and 'data-testid="journal-warning"' not in text
        assert 'data-testid="citations"' in text and 'data-testid="admission"' in text
        if item.candidate.dossier["abstract"]:
            assert html.escape(item.candidate.dossier["abstract"]) in text
            shown_abstracts += 1
    assert shown_abstracts  # the blind page still has the abstract to read


def test_an_open_review_page_shows_the_whole_dossier(app, client, open_panel, five_experts):
    triage = review.create_round(open_panel, "triage", five_experts[0], blind=False)
    db.session.commit()
    expert = five_experts[1]
    item = next(item for item in reviews_of(triage, expert)
                if item.candidate.dossier["funders"] and item.candidate.dossier["oa_url"]
                and any(a["institution_names"] for a in item.candidate.authorships))
    set_dossier(item.candidate, **IMPORTED)
    candidate = db.session.get(Review, item.id).candidate
    log_in_session(client, expert)
    text = client.get(f"/panels/reviews/{item.id}").get_data(as_text=True)
    assert 'data-testid="authors-table"' in text and 'data-testid="journal-warning"' in text
    assert html.escape(candidate.dossier["funders"][0]) in text and 'data-testid="oa-link"' in text
    named = next(a for a in candidate.authorships if a["institution_names"])
    assert html.escape(named["institution_names"][0]) in text
    assert "wos:导出记录-某大学.txt" in text and "数据来自 Web of Science" in text


def export_rows(client, url: str) -> list[tuple]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_the_export_has_the_dossier_columns(app, client, analyst, imported):
    log_in_session(client, analyst)
    entry = max(imported.lists, key=lambda item: item["selected"])
    base = f"/panels/rounds/{imported.id}/lists/{entry['discipline']}/{entry['journal_group']}"
    marked = db.session.scalar(select(Candidate).where(
        Candidate.round_id == imported.id, Candidate.discipline == entry["discipline"],
        Candidate.journal_group == entry["journal_group"]).order_by(Candidate.rank))
    set_dossier(marked, **IMPORTED, consortium=True, beijing_author_share=0.25)
    rows = export_rows(client, base + "/export.xlsx")
    header = rows[0]
    for title in ("入选依据", "全球前1%", "无中国作者的施引文献占比", "期刊分区", "期刊预警", "北京作者占比", "大合作论文"):
        assert title in header, title
    assert len(rows) == entry["selected"] + 1
    by_work = {row[header.index("OpenAlex 论文")]: dict(zip(header, row)) for row in rows[1:]}
    first = by_work[marked.work_id]
    assert (first["期刊分区"], first["期刊预警"], first["无中国作者的施引文献占比"]) == (
        IMPORTED["journal_tier"], IMPORTED["journal_warning"], 0.4)
    assert (first["北京作者占比"], first["大合作论文"]) == (0.25, "是")
    admissions = {"world_top_1pct": "全球前1%论文（优先入选）", "national_top_1pct": "国内期刊全国前1%论文（优先入选）",
                  "gate": "达到门槛"}
    listed = select(Candidate).where(Candidate.round_id == imported.id, Candidate.discipline == entry["discipline"],
                                     Candidate.journal_group == entry["journal_group"])
    for candidate in db.session.scalars(listed.options(undefer(Candidate.dossier))):
        row = by_work[candidate.work_id]
        assert row["入选依据"] == admissions[candidate.dossier["admission"]]
        assert row["全球前1%"] == {True: "是", False: "否", None: None}[candidate.dossier["world_top_1pct"]]


def test_the_list_and_its_export_issue_the_same_statements_for_few_and_many_candidates(
        app, client, analyst, imported, monkeypatch):
    log_in_session(client, analyst)
    entry = max(imported.lists, key=lambda item: item["selected"])
    assert entry["selected"] >= 50
    url = f"/panels/rounds/{imported.id}/lists/{entry['discipline']}/{entry['journal_group']}"
    counts = []
    for size in (10, entry["selected"]):
        monkeypatch.setattr(views, "PER_PAGE", size)
        monkeypatch.setattr(views, "EXPORT_MAX_ROWS", size)
        assert client.get(url).get_data(as_text=True).count('data-testid="admission"') == size
        assert len(export_rows(client, url + "/export.xlsx")) == size + 1
        counts.append((statements_for(client, url), statements_for(client, url + "/export.xlsx")))
    assert counts[0] == counts[1]


def test_the_migration_gives_existing_candidates_an_empty_dossier(tmp_path):
    """Upgrade a SQLite database holding a candidate of before the dossier: it gets ``{}``."""
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrated = create_app(app_settings(url, tmp_path / "instance"))
    with migrated.app_context():
        upgrade(revision="f9236f19d09e")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO selection_rounds (id, name, created_at, source_folder, candidates_sha256, "
                "candidate_count, summary, settings, charts_dir) VALUES (1, 'old', '2026-01-01 00:00:00', 'out', "
                "'0000', 1, '{}', '{}', '')"))
            connection.execute(text(
                "INSERT INTO selection_candidates (round_id, work_id, discipline, journal_group, rank, score, "
                "stratum_works, score_parts, over_topic_cap, beijing_first, beijing_corresponding, authorships) "
                "VALUES (1, 'W1', 'mathematics', 'domestic', 1, 0.5, 10, '[]', 0, 1, 0, '[]')"))
        upgrade()
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as connection:
        assert json.loads(connection.execute(text("SELECT dossier FROM selection_candidates")).scalar()) == {}
        columns = connection.execute(text("PRAGMA table_info(selection_candidates)")).mappings().all()
    engine.dispose()
    dossier = next(column for column in columns if column["name"] == "dossier")
    assert dossier["notnull"] == 1 and dossier["dflt_value"] is None  # the server default was temporary


def test_the_codes_of_the_schema_all_have_titles():
    assert tuple(Admission.titles()) == ADMISSIONS and tuple(StratumLevel.titles()) == STRATUM_LEVELS
    assert tuple(Baseline.titles()) == BASELINES and tuple(Track.titles()) == TRACKS


def test_part_sentences_name_their_baseline(app):
    """The sentence of each part: its value against its baseline, its percentile among Beijing papers."""
    from selection.ranking.explain import IndicatorPart, ScoreExplanation

    part = IndicatorPart("influence", 0.4, 0.8, True, 0.95, 0.05, 120, 0.38, "world")
    score = ScoreExplanation(0.7, "international", 130, False, (part,), "gate", "field")
    with app.test_request_context():
        (view,) = services.part_views(score)
    assert ("指标值 0.800（指标值对照全球同领域同年份论文）；在本分层（领域和发表年份（子领域论文过少，向上合并））"
            "有该指标值的 120 篇北京论文中百分位为 95.0%") in view.sentence, view.sentence
    assert view.baseline_title == "全球同领域同年份论文" and "北京论文中前 5.0%" in view.sentence
