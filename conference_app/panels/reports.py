"""What a panel's rounds of review and its frontier results look like on paper.

``aggregation_rows(review_round)`` is a round's ranking as its page shows it: one row per item
of its statistics (``review.statistics``), best first, with the candidate, its number in the
round, the aggregate figures and each expert's score by code. ``result_rows(panel)`` are the
locked results with their standing in the triage and the shortlist. Both take a fixed number
of SQL statements whatever the number of items.

The exports: ``scores_workbook`` (every review of a round, then the aggregation and the
agreement figures on a second sheet; experts by code, with their names for staff only),
``results_workbook`` (the results with their indicators) and the panel report as a PDF
(``report_pdf``, WeasyPrint over ``templates/panels/report_pdf.html`` in the CJK font the task
agreements use). Workbooks are written through ``core.excel.append_row``, so what anyone typed
(a comment, a justification) stays text and never becomes a formula. Headers and labels are
in Chinese (the files are rendered under zh_CN whatever the reader's language).
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from flask import Response, current_app, render_template, send_file
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conference_app.audit.models import AuditEntry
from conference_app.core.excel import Column, append_row, save_workbook, workbook_bytes, write_sheet
from conference_app.core.timeutil import BEIJING, beijing_now
from conference_app.extensions import db
from conference_app.panels import review
from conference_app.panels.models import Candidate, Panel, PanelResult, Review, ReviewRound, ReviewStage
from conference_app.panels.services import INDICATOR_TITLES, discipline_title
from conference_app.programs.services.agreements import CJK_FONT
from selection.schema import INDICATORS

REPORT_LOCALE = "zh_CN"
PDF_MIMETYPE = "application/pdf"
# The agreement figures of ``selection.panel.stats.panel_stats``, in the order files show them.
AGREEMENT_FIGURES = (
    ("kendalls_w", _l("Kendall's W")),
    ("icc2_1", "ICC(2,1)"),
    ("icc2_k", "ICC(2,k)"),
    ("krippendorff_alpha_interval", _l("Krippendorff's alpha (interval)")),
)
STATS_COUNTS = (
    ("n_items", _l("Items scored")),
    ("n_experts", _l("Experts who scored")),
    ("complete_block_items", _l("Items scored by every expert")),
)
AGGREGATE_KEYS = ("rank", "rank_low", "rank_high", "n_scores", "mean", "trimmed_mean", "normalised_mean", "spread",
                  "disagreement")


# --- rows ------------------------------------------------------------------------------------


def _expert_code(codes: dict[int, str], user_id: int) -> str:
    return codes.get(user_id, f"U{user_id}")  # as review.scores_frame names one no longer a member


def aggregation_rows(review_round: ReviewRound) -> list[dict]:
    """The round's items best first (``review.statistics``), [] before any score.

    Each row: ``candidate``, ``position`` (its number in the round), the statistics' ``rank``,
    ``rank_low``, ``rank_high``, ``n_scores``, ``mean``, ``trimmed_mean``, ``normalised_mean``,
    ``spread``, ``disagreement``, and ``scores``: member code -> the score that expert gave in
    this round (the final vote as 1 or 0), in the order of the codes; an expert who gave none
    is absent. Four statements at most (the statistics, the members, the candidates, the reviews).
    """
    stats = review.statistics(review_round)
    if not stats or not stats.get("items"):
        return []
    codes = review.member_codes(review_round.panel)
    order = {code: number for number, code in enumerate(codes.values())}
    in_round = select(Review.candidate_id).where(Review.review_round_id == review_round.id)
    candidates = {candidate.id: candidate for candidate in db.session.scalars(
        select(Candidate).where(Candidate.id.in_(in_round)))}
    final = review_round.stage == ReviewStage.FINAL
    positions: dict[int, int] = {}
    scores: dict[int, dict[str, float | int]] = {}
    for candidate_id, user_id, position, score, vote in db.session.execute(
            select(Review.candidate_id, Review.user_id, Review.position, Review.score, Review.vote)
            .where(Review.review_round_id == review_round.id)):
        positions.setdefault(candidate_id, position)
        value = (None if vote is None else int(vote)) if final else score
        if value is not None:
            scores.setdefault(candidate_id, {})[_expert_code(codes, user_id)] = value
    rows = []
    for item in stats["items"]:
        candidate_id = int(item["item_id"])
        candidate = candidates.get(candidate_id)
        if candidate is None:  # a candidate gone since the statistics were stored
            continue
        given = scores.get(candidate_id, {})
        rows.append({
            "candidate": candidate,
            "position": positions.get(candidate_id),
            **{key: item.get(key) for key in AGGREGATE_KEYS},
            "scores": dict(sorted(given.items(), key=lambda pair: (order.get(pair[0], len(order)), pair[0]))),
        })
    return rows


def _standing(review_round: ReviewRound | None) -> dict[int, dict]:
    if review_round is None:
        return {}
    stats = review.statistics(review_round) or {"items": []}
    return {int(item["item_id"]): item for item in stats["items"]}


def result_rows(panel: Panel) -> list[dict]:
    """The panel's frontier results in their order.

    Each row: ``position``, ``candidate``, ``justification``, ``votes`` (yes votes when locked),
    ``triage_rank``, ``triage_mean``, ``shortlist_rank``, ``shortlist_mean`` (the item's rank and
    normalised mean in those rounds' statistics, None when it was not ranked there), ``score``
    and ``rank`` (the ranking's). A fixed number of statements whatever the number of results.
    """
    results = list(db.session.scalars(
        select(PanelResult).where(PanelResult.panel_id == panel.id)
        .options(selectinload(PanelResult.candidate)).order_by(PanelResult.position)))
    rounds = review.rounds_of(panel)
    triage = _standing(rounds.get(ReviewStage.TRIAGE))
    shortlist = _standing(rounds.get(ReviewStage.SHORTLIST))
    rows = []
    for result in results:
        candidate = result.candidate
        in_triage = triage.get(candidate.id, {})
        in_shortlist = shortlist.get(candidate.id, {})
        rows.append({
            "position": result.position,
            "candidate": candidate,
            "justification": result.justification,
            "votes": result.votes,
            "triage_rank": in_triage.get("rank"),
            "triage_mean": in_triage.get("normalised_mean"),
            "shortlist_rank": in_shortlist.get("rank"),
            "shortlist_mean": in_shortlist.get("normalised_mean"),
            "score": candidate.score,
            "rank": candidate.rank,
        })
    return rows


# --- workbooks -------------------------------------------------------------------------------


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _yes_no(value: bool | None) -> str | None:
    if value is None:
        return None
    return _("Yes") if value else _("No")


def _percentile(candidate: Candidate, code: str) -> float | None:
    part = next((part for part in candidate.score_parts or [] if part.get("indicator") == code), None)
    return None if part is None else part.get("percentile")


def _expert_labels(panel: Panel, with_names: bool) -> dict[int, str]:
    """user id -> "E1", or "E1 name" when ``with_names`` (staff only)."""
    codes = review.member_codes(panel)
    if not with_names:
        return codes
    names = {member.user_id: member.user.name for member in panel.members}
    return {user_id: f"{code} {names[user_id]}" for user_id, code in codes.items()}


def _review_columns(labels: dict[int, str]) -> list[Column]:
    return [
        Column(_l("Candidate no."), lambda r: r.position, 10),
        Column(_l("OpenAlex work"), lambda r: r.candidate.work_id, 16),
        Column(_l("Paper title"), lambda r: r.candidate.title, 50),
        Column(_l("Journal group"), lambda r: r.candidate.journal_group.title, 14),
        Column(_l("Expert"), lambda r: labels.get(r.user_id, f"U{r.user_id}"), 18),
        Column(_l("Score"), lambda r: _rounded(r.score), 8),
        *[Column(review.RUBRIC_TITLES[name], lambda r, name=name: getattr(r, name), 10) for name in review.RUBRIC],
        Column(_l("Recommendation"), lambda r: r.recommendation.title if r.recommendation else None, 14),
        Column(_l("Vote"), lambda r: _yes_no(r.vote), 8),
        Column(_l("Comment"), lambda r: r.comment, 40),
        Column(_l("Saved at"), lambda r: r.updated_at, 20),
    ]


def _aggregation_columns(codes: list[str], headers: dict[str, str]) -> list[Column]:
    return [
        Column(_l("Rank"), lambda r: r["rank"], 8),
        Column(_l("Candidate no."), lambda r: r["position"], 10),
        Column(_l("OpenAlex work"), lambda r: r["candidate"].work_id, 16),
        Column(_l("Paper title"), lambda r: r["candidate"].title, 50),
        Column(_l("Number of scores"), lambda r: r["n_scores"], 10),
        Column(_l("Mean"), lambda r: _rounded(r["mean"]), 10),
        Column(_l("Trimmed mean"), lambda r: _rounded(r["trimmed_mean"]), 10),
        Column(_l("Normalised mean"), lambda r: _rounded(r["normalised_mean"]), 12),
        Column(_l("Rank interval"), lambda r: _interval(r), 12),
        Column(_l("Spread"), lambda r: _rounded(r["spread"]), 10),
        Column(_l("Disagreement"), lambda r: _yes_no(r["disagreement"]), 10),
        *[Column(headers[code], lambda r, code=code: r["scores"].get(code), 10) for code in codes],
    ]


def _interval(row: dict) -> str | None:
    if row.get("rank_low") is None or row.get("rank_high") is None:
        return None
    return f"{row['rank_low']}–{row['rank_high']}"


def scores_workbook(review_round: ReviewRound, with_names: bool) -> bytes:
    """Every review of the round (one row each, unscored assignments too), in the order of the
    candidates' numbers and the experts' codes; a second sheet with the aggregation and the
    agreement figures. Experts by code, "E1 name" when ``with_names`` (staff only)."""
    panel = review_round.panel
    labels = _expert_labels(panel, with_names)
    codes = review.member_codes(panel)
    code_order = {user_id: number for number, user_id in enumerate(codes)}
    reviews = list(db.session.scalars(
        select(Review).where(Review.review_round_id == review_round.id)
        .options(selectinload(Review.candidate).load_only(Candidate.id, Candidate.work_id, Candidate.title,
                                                          Candidate.journal_group))))
    reviews.sort(key=lambda r: (r.position, code_order.get(r.user_id, len(code_order)), r.user_id))
    rows = aggregation_rows(review_round)
    stats = review.statistics(review_round) or {}
    code_labels = {code: labels.get(user_id, code) for user_id, code in codes.items()}
    workbook = Workbook()
    with force_locale(REPORT_LOCALE):
        write_sheet(workbook.active, _l("Reviews"), _review_columns(labels), reviews)
        sheet = workbook.create_sheet()
        write_sheet(sheet, _l("Aggregation"), _aggregation_columns(list(codes.values()), code_labels), rows)
        append_row(sheet, [])
        append_row(sheet, [str(_l("Agreement")), str(review_round.stage.title)])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        for key, title in (*AGREEMENT_FIGURES, *STATS_COUNTS):
            append_row(sheet, [str(title), _rounded(stats.get(key))])
    return save_workbook(workbook)


def _result_columns() -> list[Column]:
    return [
        Column(_l("Result no."), lambda r: r["position"], 8),
        Column(_l("OpenAlex work"), lambda r: r["candidate"].work_id, 16),
        Column(_l("Paper title"), lambda r: r["candidate"].title, 50),
        Column(_l("Journal"), lambda r: r["candidate"].source_name, 30),
        Column(_l("Journal group"), lambda r: r["candidate"].journal_group.title, 14),
        Column(_l("Publication year"), lambda r: r["candidate"].publication_year, 10),
        Column("DOI", lambda r: r["candidate"].doi, 30),
        Column(_l("Yes votes"), lambda r: r["votes"], 10),
        Column(_l("Shortlist rank"), lambda r: r["shortlist_rank"], 10),
        Column(_l("Shortlist normalised mean"), lambda r: _rounded(r["shortlist_mean"]), 12),
        Column(_l("Triage normalised mean"), lambda r: _rounded(r["triage_mean"]), 12),
        Column(_l("Ranking score"), lambda r: _rounded(r["score"], 6), 10),
        Column(_l("Ranking rank"), lambda r: r["rank"], 10),
        *[Column(_l("%(indicator)s percentile", indicator=INDICATOR_TITLES[code]),
                 lambda r, code=code: _rounded(_percentile(r["candidate"], code)), 14) for code in INDICATORS],
        Column(_l("Justification"), lambda r: r["justification"], 60),
    ]


def results_workbook(panel: Panel) -> bytes:
    """The locked results, one row each in their order, with their standing and indicators."""
    return workbook_bytes(_l("Frontier results"), _result_columns(), result_rows(panel))


# --- the panel report (PDF) ---------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


def _figure(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _person(user, codes: dict[int, str], with_names: bool) -> str:
    """A member by code (and name when ``with_names``); anyone else (staff) by name."""
    if user is None:
        return "—"
    code = codes.get(user.id)
    if code is None:
        return user.name
    return f"{code} {user.name}" if with_names else code


def _actor_name(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return entry.actor.name
    return entry.actor_label.split(" <", 1)[0]


def report_context(panel: Panel, with_names: bool) -> dict:
    """What the PDF report says, as plain values (rendered under zh_CN)."""
    codes = review.member_codes(panel)
    members = [{"code": codes[member.user_id], "name": member.user.name if with_names else None,
                "chair": member.user_id == panel.chair_user_id} for member in panel.members]
    rounds = []
    for review_round in panel.review_rounds:
        done, total = review.progress(review_round)
        stats = review.statistics(review_round) or {}
        rounds.append({
            "stage": review_round.stage.title,
            "status": review_round.status.title,
            "blind": review_round.blind,
            "per_item": review_round.per_item,
            "candidates": review_round.item_count,
            "reviews": total,
            "scored": done,
            "opened_at": _when(review_round.created_at),
            "closed_at": _when(review_round.closed_at) if review_round.closed_at else None,
            "unscored": review_round.unscored_at_close or 0,
            "close_reason": review_round.close_reason if review_round.unscored_at_close else None,
            "figures": [(str(title), _figure(stats.get(key))) for key, title in AGREEMENT_FIGURES],
            "disagreements": sum(bool(item.get("disagreement")) for item in stats.get("items") or []),
            "complete_block": stats.get("complete_block_items"),
        })
    results = [{
        **row,
        "work_id": row["candidate"].work_id,
        "title": row["candidate"].title or "—",
        "journal": row["candidate"].source_name or "—",
        "journal_group": row["candidate"].journal_group.title,
        "year": row["candidate"].publication_year,
        "doi": row["candidate"].doi,
        "shortlist_mean_text": _figure(row["shortlist_mean"]),
        "score_text": _figure(row["score"]),
        "indicators": [(str(INDICATOR_TITLES[code]), _percent(_percentile(row["candidate"], code)))
                       for code in INDICATORS],
    } for row in result_rows(panel)]
    reopenings = [{"when": _when(entry.created_at), "who": _actor_name(entry), "comment": entry.comment or "—"}
                  for entry in db.session.scalars(
                      select(AuditEntry).where(AuditEntry.action == "panel.reopened",
                                               AuditEntry.object_type == "Panel",
                                               AuditEntry.object_id == str(panel.id))
                      .options(selectinload(AuditEntry.actor))
                      .order_by(AuditEntry.created_at, AuditEntry.id))]
    return {
        "panel_name": panel.name,
        "round_name": panel.round.name,
        "discipline": discipline_title(panel.discipline),
        "status": panel.status.title,
        "locked_at": _when(panel.locked_at) if panel.locked_at else None,
        "locked_by": _person(panel.locked_by, codes, with_names) if panel.locked_by_id else None,
        "generated_at": _when(beijing_now()),
        "with_names": with_names,
        "members": members,
        "rounds": rounds,
        "results": results,
        "reopenings": reopenings,
    }


def report_pdf(panel: Panel, with_names: bool) -> bytes:
    """The panel report as an A4 PDF in Chinese: the panel, its rounds and their agreement,
    the results with their justifications, the lock and any reopening. Experts by code, their
    names only when ``with_names`` (staff)."""
    from weasyprint import HTML

    with force_locale(REPORT_LOCALE):
        html = render_template("panels/report_pdf.html", report=report_context(panel, with_names), font=CJK_FONT)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def pdf_response(panel: Panel, with_names: bool) -> Response:
    """The report as a download named ``panel-report-<id>.pdf``."""
    return send_file(BytesIO(report_pdf(panel, with_names)), mimetype=PDF_MIMETYPE, as_attachment=True,
                     download_name=f"panel-report-{panel.id}.pdf")
