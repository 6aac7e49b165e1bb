"""The reports of a panel run to its 20 locked results: a round's aggregation (in a fixed number
of statements), the scores and results workbooks, the PDF report in Chinese, and the three
exports over HTTP for the chair (codes), staff (names) and a member (refused)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pypdfium2
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select, update

from conference_app.core.excel import XLSX_MIMETYPE
from conference_app.extensions import db
from conference_app.panels import reports, review
from conference_app.panels.models import Candidate, Panel, Review, ReviewRound, ReviewStage
from tests.app.conftest import log_in_session
from tests.app.core.test_query_counts import counted_statements
from tests.app.panels.conftest import fill_round

JUSTIFICATION = "该成果在本学科前沿具有开创性贡献，国际影响显著（{work}）"
RISKY_COMMENT = '=HYPERLINK("http://example.invalid","点我")'


@dataclass
class LockedPanel:
    panel: Panel
    triage: ReviewRound
    shortlist: ReviewRound
    final: ReviewRound
    chair: object
    experts: list
    staff: object


def run_to_locked_results(panel: Panel, experts: list, staff) -> LockedPanel:
    """Triage, shortlist and final vote filled and closed by the chair, 20 results locked with
    Chinese justifications (as test_review_rounds.py does, through the services)."""
    chair = experts[0]
    rounds = {}
    for seed, stage in enumerate(("triage", "shortlist", "final")):
        review_round = review.create_round(panel, stage, chair)
        db.session.commit()
        fill_round(review_round, seed=seed)
        review.close_round(review_round, None, chair)
        db.session.commit()
        rounds[stage] = review_round
    tallies = review.final_tally(panel)[:review.settings()["results"]]
    review.lock_results(panel, [(t.candidate.id, JUSTIFICATION.format(work=t.candidate.work_id)) for t in tallies],
                        chair)
    db.session.commit()
    return LockedPanel(panel, rounds["triage"], rounds["shortlist"], rounds["final"], chair, experts, staff)


@pytest.fixture()
def locked(open_panel, five_experts, review_staff) -> LockedPanel:
    return run_to_locked_results(open_panel, five_experts, review_staff)


def _sheet_rows(data: bytes, index: int = 0) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data))
    return list(workbook.worksheets[index].iter_rows(values_only=True))


def _pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    return re.sub(r"\s+", "", text)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- rows ----------------------------------------------------------------------------------------


def test_aggregation_rows_follow_the_statistics_with_each_experts_scores(locked):
    codes = review.member_codes(locked.panel)
    for review_round in (locked.triage, locked.shortlist, locked.final):
        stats = review.statistics(review_round)
        rows = reports.aggregation_rows(review_round)
        assert [str(row["candidate"].id) for row in rows] == [item["item_id"] for item in stats["items"]]
        for row, item in zip(rows, stats["items"]):
            for key in ("rank", "rank_low", "rank_high", "n_scores", "mean", "trimmed_mean", "normalised_mean",
                        "spread", "disagreement"):
                assert row[key] == item[key], key
            assert len(row["scores"]) == row["n_scores"]
        reviews = db.session.scalars(select(Review).where(Review.review_round_id == review_round.id)).all()
        by_candidate = {row["candidate"].id: row for row in rows}
        for item in reviews:
            row = by_candidate[item.candidate_id]
            assert row["position"] == item.position
            given = item.vote if review_round.stage == ReviewStage.FINAL else item.score
            expected = int(given) if review_round.stage == ReviewStage.FINAL else given
            assert row["scores"].get(codes[item.user_id]) == expected
        assert all(list(row["scores"]) == sorted(row["scores"], key=lambda code: int(code[1:])) for row in rows)
    assert {value for row in reports.aggregation_rows(locked.final) for value in row["scores"].values()} == {0, 1}


def test_aggregation_rows_before_any_score_are_empty(open_panel, five_experts):
    triage = review.create_round(open_panel, "triage", five_experts[0])
    db.session.commit()
    assert reports.aggregation_rows(triage) == []


def add_candidates(panel: Panel, count: int) -> None:
    """``count`` more candidates in the panel's discipline: copies of its own under new work ids."""
    existing = db.session.scalars(select(Candidate).where(
        Candidate.round_id == panel.round_id, Candidate.discipline == panel.discipline).order_by(Candidate.id)).all()
    columns = [column.key for column in Candidate.__table__.columns if column.key != "id"]
    rows = []
    for number in range(count):
        source = existing[number % len(existing)]
        rows.append({**{key: getattr(source, key) for key in columns}, "work_id": f"WCOPY{number:06d}",
                     "rank": source.rank + 1000 + number})
    db.session.execute(insert(Candidate), rows)
    db.session.commit()


def test_aggregation_rows_take_the_same_statements_for_60_and_for_200_items(open_panel, five_experts):
    chair = five_experts[0]
    add_candidates(open_panel, 60)

    def statements(review_round: ReviewRound) -> tuple[int, int]:
        db.session.expire_all()
        with counted_statements() as sent:
            rows = reports.aggregation_rows(db.session.get(ReviewRound, review_round.id))
        return len(rows), len(sent)

    counts = {}
    for stage in ("triage", "shortlist"):
        review_round = review.create_round(open_panel, stage, chair)
        db.session.commit()
        fill_round(review_round, seed=len(counts))
        counts[stage, "open"] = statements(review_round)  # statistics computed from the scores
        review.close_round(review_round, None, chair)
        db.session.commit()
        counts[stage, "closed"] = statements(review_round)  # statistics stored at closing
    assert counts["triage", "closed"][0] >= 200 and counts["shortlist", "closed"][0] >= 60
    for state in ("open", "closed"):
        assert counts["triage", state][1] == counts["shortlist", state][1] <= 6, counts


def test_result_rows_hold_the_twenty_in_order_with_their_standing(locked):
    db.session.expire_all()
    panel = db.session.get(Panel, locked.panel.id)
    with counted_statements() as sent:
        rows = reports.result_rows(panel)
    assert len(sent) <= 6
    assert [row["position"] for row in rows] == list(range(1, 21))
    tallies = {tally.candidate.id: tally for tally in review.final_tally(panel)}
    shortlist = {int(item["item_id"]): item for item in review.statistics(locked.shortlist)["items"]}
    triage = {int(item["item_id"]): item for item in review.statistics(locked.triage)["items"]}
    for row in rows:
        candidate = row["candidate"]
        assert row["justification"] == JUSTIFICATION.format(work=candidate.work_id)
        assert row["votes"] == tallies[candidate.id].yes
        assert (row["shortlist_rank"], row["shortlist_mean"]) == (
            shortlist[candidate.id]["rank"], shortlist[candidate.id]["normalised_mean"])
        assert (row["triage_rank"], row["triage_mean"]) == (
            triage[candidate.id]["rank"], triage[candidate.id]["normalised_mean"])
        assert (row["score"], row["rank"]) == (candidate.score, candidate.rank)


# --- workbooks -----------------------------------------------------------------------------------


def test_scores_workbook_has_a_row_per_review_with_codes_or_names(locked):
    panel = locked.panel
    db.session.execute(update(Review).where(Review.id == db.session.scalar(
        select(func.min(Review.id)).where(Review.review_round_id == locked.triage.id))).values(comment=RISKY_COMMENT))
    db.session.commit()
    count = db.session.scalar(select(func.count()).where(Review.review_round_id == locked.triage.id))
    names = [expert.name for expert in locked.experts]
    codes = review.member_codes(panel)

    blind = reports.scores_workbook(locked.triage, with_names=False)
    rows = _sheet_rows(blind)
    assert len(rows) == count + 1
    header = rows[0]
    expert_column = header.index("评审专家")
    assert {row[expert_column] for row in rows[1:]} <= set(codes.values())
    assert not any(name in str(cell) for row in rows for cell in row for name in names)
    positions = [row[0] for row in rows[1:]]
    assert positions == sorted(positions)
    comment_cell = next(cell for row in load_workbook(io.BytesIO(blind)).worksheets[0].iter_rows()
                        for cell in row if cell.value == RISKY_COMMENT)
    assert comment_cell.data_type == "s"  # text, never a formula

    aggregation = _sheet_rows(blind, 1)
    items = reports.aggregation_rows(locked.triage)
    assert [row[2] for row in aggregation[1:len(items) + 1]] == [row["candidate"].work_id for row in items]
    assert set(codes.values()) <= set(aggregation[0])
    figures = {row[0]: row[1] for row in aggregation[len(items) + 2:] if row and row[0]}
    stats = review.statistics(locked.triage)
    assert figures["ICC(2,1)"] == pytest.approx(stats["icc2_1"], abs=1e-4)
    assert figures["ICC(2,k)"] == pytest.approx(stats["icc2_k"], abs=1e-4)
    assert len(figures) >= 6

    named = _sheet_rows(reports.scores_workbook(locked.triage, with_names=True))
    assert len(named) == count + 1
    labels = {row[expert_column] for row in named[1:]}
    expected = {f"{codes[expert.id]} {expert.name}" for expert in locked.experts}
    assert labels <= expected and len(labels) == len(expected)


def test_final_round_workbook_shows_the_votes(locked):
    rows = _sheet_rows(reports.scores_workbook(locked.final, with_names=False))
    assert len(rows) - 1 == db.session.scalar(select(func.count()).where(Review.review_round_id == locked.final.id))
    vote_column = len(rows[0]) - 3
    assert {row[vote_column] for row in rows[1:]} == {"是", "否"}


def test_results_workbook_has_the_twenty_with_justifications(locked):
    rows = _sheet_rows(reports.results_workbook(locked.panel))
    assert len(rows) == 21
    expected = [JUSTIFICATION.format(work=row["candidate"].work_id) for row in reports.result_rows(locked.panel)]
    assert [row[-1] for row in rows[1:]] == expected
    assert [row[0] for row in rows[1:]] == list(range(1, 21))
    assert all(isinstance(value, float) for row in rows[1:] for value in row[-5:-1] if value is not None)


# --- the PDF report ------------------------------------------------------------------------------


def test_report_pdf_is_chinese_with_the_panel_and_its_justifications(locked):
    panel = locked.panel
    first = reports.result_rows(panel)[0]
    data = reports.report_pdf(panel, with_names=False)
    assert data[:4] == b"%PDF"
    text = _pdf_text(data)
    assert _squeeze(panel.name) in text
    assert _squeeze(first["justification"]) in text
    assert _squeeze(panel.round.name) in text
    assert not any(_squeeze(expert.name) in text for expert in locked.experts)
    assert "E1" in text and "E5" in text

    named = _pdf_text(reports.report_pdf(panel, with_names=True))
    assert all(_squeeze(expert.name) in named for expert in locked.experts)


def test_report_pdf_lists_a_reopening_and_the_lock_after_it(locked):
    panel = locked.panel
    review.reopen_results(panel, "复核意见：第三名需要重新讨论", locked.staff)
    db.session.commit()
    reopened = _pdf_text(reports.report_pdf(panel, with_names=False))
    assert "复核意见：第三名需要重新讨论" in reopened
    rows = reports.result_rows(panel)
    review.lock_results(panel, [(row["candidate"].id, row["justification"]) for row in rows], locked.chair)
    db.session.commit()
    context = reports.report_context(panel, with_names=False)
    assert context["locked_at"] and context["locked_by"] == "E1"
    assert len(context["reopenings"]) == 1 and context["reopenings"][0]["who"] == locked.staff.name


# --- over HTTP -----------------------------------------------------------------------------------


def test_exports_over_http_codes_for_the_chair_names_for_staff_refused_to_members(app, client, locked):
    panel, triage = locked.panel, locked.triage
    scores_url = f"/panels/review-rounds/{triage.id}/scores.xlsx"
    results_url = f"/panels/{panel.id}/results.xlsx"
    pdf_url = f"/panels/{panel.id}/report.pdf"
    names = [expert.name for expert in locked.experts]

    log_in_session(client, locked.chair)
    scores = client.get(scores_url)
    assert scores.status_code == 200 and scores.mimetype == XLSX_MIMETYPE
    assert "attachment" in scores.headers["Content-Disposition"]
    chair_rows = _sheet_rows(scores.data)
    assert not any(name in str(cell) for row in chair_rows for cell in row for name in names)
    assert "E2" in {cell for row in chair_rows for cell in row}
    results = client.get(results_url)
    assert results.status_code == 200 and results.mimetype == XLSX_MIMETYPE
    assert len(_sheet_rows(results.data)) == 21
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data[:4] == b"%PDF"
    assert f"panel-report-{panel.id}.pdf" in pdf.headers["Content-Disposition"]
    assert not any(_squeeze(name) in _pdf_text(pdf.data) for name in names)

    log_in_session(client, locked.staff)
    staff_rows = _sheet_rows(client.get(scores_url).data)
    assert any(name in str(cell) for row in staff_rows for cell in row for name in names)
    staff_pdf = client.get(pdf_url)
    assert staff_pdf.status_code == 200 and _squeeze(names[1]) in _pdf_text(staff_pdf.data)

    log_in_session(client, locked.experts[1])
    for url in (scores_url, results_url, pdf_url):
        assert client.get(url).status_code == 403, url
