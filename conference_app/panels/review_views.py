"""The rounds of review on the panels blueprint: opening one (the chair), an expert's scoring
screen and its autosave (JSON), one review, a round's page with its agreement and aggregation,
closing it, the final lock and its reopening by staff, the results and the exports."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conference_app.core.db import page_number
from conference_app.core.errors import json_response
from conference_app.core.excel import xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires, user_can
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import BEIJING
from conference_app.extensions import db
from conference_app.panels import reports, review, services
from conference_app.panels.forms import CloseRoundForm, ReopenForm, ReviewRoundForm, StepForm
from conference_app.panels.models import (
    JournalGroup,
    Panel,
    PanelStatus,
    Recommendation,
    Review,
    ReviewRound,
    ReviewStage,
)
from conference_app.panels.views import blueprint

REVIEW_FIELDS = ("score", *review.RUBRIC, "recommendation", "vote", "comment")
FORM_PAGE_SIZE = 50  # the scoring screen's rows a page without JavaScript


def review_json(saved: Review) -> dict:
    """What the scoring screen needs back after a save."""
    done, total = review.progress(saved.review_round, saved.user_id)
    return {
        "ok": True,
        "review": {"id": saved.id, "score": saved.score, **{name: getattr(saved, name) for name in review.RUBRIC},
                   "recommendation": saved.recommendation.value if saved.recommendation else None,
                   "vote": saved.vote, "comment": saved.comment or "", "done": review.is_done(saved)},
        "progress": {"done": done, "total": total},
        "yes_votes": review.yes_votes(saved.review_round, saved.user_id),
        "saved_at": saved.updated_at.astimezone(BEIJING).strftime("%H:%M:%S") if saved.updated_at else None,
    }


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@blueprint.post("/panels/<id:panel_id>/review-rounds")
@requires("panels.chair", load=Panel, arg="panel_id")
def create_review_round(panel: Panel):
    form = ReviewRoundForm()
    created = []
    if submit(form, lambda: created.append(review.create_round(
            panel, form.stage.data, current_user, blind=form.blind.data, per_item=form.per_item.data,
            size=form.size.data))):
        flash(_("The round %(stage)s is open: %(count)d candidates assigned.", stage=created[0].stage.title,
                count=created[0].item_count), "success")
        return redirect(url_for(".review_round", review_round_id=created[0].id))
    from conference_app.panels.views import _panel_page

    return _panel_page(panel, form_status(form), round_form=form)


@blueprint.get("/panels/my-reviews")
@requires("panels.review")
def my_reviews():
    rounds = list(db.session.scalars(
        select(ReviewRound).where(ReviewRound.id.in_(
            select(Review.review_round_id).where(Review.user_id == current_user.id)))
        .options(selectinload(ReviewRound.panel)).order_by(ReviewRound.created_at.desc(), ReviewRound.id.desc())))
    return render_template("panels/my_reviews.html", rounds=[
        (review_round, review.progress(review_round, current_user.id)) for review_round in rounds])


@blueprint.get("/panels/review-rounds/<id:review_round_id>/score")
@requires("panels.view", load=ReviewRound, arg="review_round_id")
def score(review_round: ReviewRound):
    """The expert's scoring screen: every assigned candidate in one table, built in the browser
    from the rows embedded once as JSON (the same template work for 5 candidates or 500); with
    ``?page=N``, for a browser without JavaScript, ``FORM_PAGE_SIZE`` of them a page, each row a
    form of its own."""
    blind, stage = review_round.blind, review_round.stage
    names, rows = review.expert_review_rows(review_round, current_user.id, blind)
    if not rows and not user_can(current_user, "panels.chair", review_round.panel):
        abort(404)
    done_at = names.index("vote" if stage == ReviewStage.FINAL else "score")
    group_at = names.index("group")
    # The journal groups present, in the rows' order, with their titles (the filter, the rows).
    group_titles = {value: JournalGroup(value).title for value in dict.fromkeys(row[group_at] for row in rows)}
    form_pages = -(-len(rows) // FORM_PAGE_SIZE)
    context = dict(
        review_round=review_round, panel=review_round.panel, stage=stage, blind=blind, group_titles=group_titles,
        parts=screen_parts(stage, blind, review_round.is_open), total=len(rows),
        done=sum(row[done_at] is not None for row in rows),
        yes_votes=sum(row[done_at] is True for row in rows) if stage == ReviewStage.FINAL else 0,
        results_limit=review.settings()["results"], rubric=_rubric(), recommendations=Recommendation.titles(),
        step_form=StepForm(formdata=None) if stage == ReviewStage.FINAL and review_round.is_open else None,
        form_pages=form_pages, form_page_size=FORM_PAGE_SIZE)
    if "page" in request.args:
        page = min(page_number(request.args.get("page")), max(form_pages, 1))
        shown = rows[(page - 1) * FORM_PAGE_SIZE:page * FORM_PAGE_SIZE]
        return render_template("panels/score.html", **context, page=page,
                               page_rows=[dict(zip(names, row)) for row in shown])
    # The script builds the rows: it adds each review's id to the prefix of the review URLs.
    review_url_prefix = url_for(".review_page", review_id=1).removesuffix("1")
    review_data = htmlsafe_json_dumps({"columns": names, "rows": rows, "groups": group_titles},
                                      ensure_ascii=False, separators=(",", ":"))  # "<", ">", "&", "'" escaped
    return render_template("panels/score.html", **context, review_url_prefix=review_url_prefix,
                           review_data=review_data)


def _rubric() -> list[tuple[str, object]]:
    return [(name, review.RUBRIC_TITLES[name]) for name in review.RUBRIC]


SCREEN_PARTS = ("labels", "score_anchors", "key_help", "table_head", "row_template")


def screen_parts(stage: ReviewStage, blind: bool, is_open: bool) -> dict[str, Markup]:
    """The parts of the scoring screen alike for every expert and round in the reader's language
    with this stage, blindness and state (panels/score_parts.html: the texts of the script, the
    keys, the table's head, the row template), rendered once a process for each: the template
    work left would otherwise be done again on every page. Rendered every time when templates
    reload (development)."""
    cache = current_app.extensions.setdefault("panels.screen_parts", {})
    key = (str(get_locale()), str(stage), bool(blind), bool(is_open))
    parts = cache.get(key)
    if parts is None:
        module = current_app.jinja_env.get_template("panels/score_parts.html").make_module({
            "stage": stage, "blind": blind, "is_open": is_open, "rubric": _rubric(), "anchors": review.ANCHORS,
            "recommendations": Recommendation.titles()})
        parts = {name: Markup(getattr(module, name)) for name in SCREEN_PARTS}
        if not current_app.jinja_env.auto_reload:
            cache[key] = parts
    return parts


@blueprint.route("/panels/reviews/<id:review_id>", methods=["GET", "POST"])
@requires("panels.review", load=Review, arg="review_id")
def review_page(**loaded):
    return _review(loaded["review"])


def _review(item: Review):
    """GET: one review with its candidate (blind when the round is). POST (JSON or a form):
    save the fields sent."""
    if request.method == "POST":
        try:
            saved = review.save_review(item, _posted_values(), current_user)
        except ServiceError as error:
            db.session.rollback()
            if _wants_json():
                return json_response({"ok": False, "error": str(error.message)}, error.status)
            raise
        if _wants_json():
            return json_response(review_json(saved))
        flash(_("Saved."), "success")
        return redirect(request.form.get("back") == "review" and url_for(".review_page", review_id=item.id)
                        or url_for(".score", review_round_id=item.review_round_id,
                                   page=review.expert_review_index(item) // FORM_PAGE_SIZE + 1,
                                   _anchor=f"review-{item.id}"))
    candidate = item.candidate
    review_round = item.review_round
    score_explanation = services.explanation(candidate)
    return render_template(
        "panels/review.html", review=item, review_round=review_round, candidate=candidate,
        blind=review_round.blind, stage=review_round.stage, parts=services.part_views(score_explanation),
        authors=[] if review_round.blind else services.author_views(candidate),
        rubric=[(name, review.RUBRIC_TITLES[name]) for name in review.RUBRIC], anchors=review.ANCHORS,
        recommendations=Recommendation.titles(), discipline_title=services.discipline_title(candidate.discipline),
    )


def _posted_values() -> dict:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ServiceError(_("The request body must be a JSON object."))
        return body  # unknown members are refused by the service, with their names
    return {name: request.form[name] for name in REVIEW_FIELDS if name in request.form}


@blueprint.post("/panels/review-rounds/<id:review_round_id>/vote-rest-no")
@requires("panels.view", load=ReviewRound, arg="review_round_id")
def vote_rest_no(review_round: ReviewRound):
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    count = review.vote_rest_no(review_round, current_user)
    flash(_("%(count)d candidates marked no.", count=count), "success")
    return redirect(url_for(".score", review_round_id=review_round.id))


@blueprint.get("/panels/review-rounds/<id:review_round_id>")
@requires("panels.view", load=ReviewRound, arg="review_round_id")
def review_round(review_round: ReviewRound):
    """The round's page for the chair and staff; a member goes to their scoring screen."""
    if not user_can(current_user, "panels.chair", review_round.panel):
        return redirect(url_for(".score", review_round_id=review_round.id))
    return _round_page(review_round)


def _round_page(review_round: ReviewRound, close_form: CloseRoundForm | None = None, status: int = 200):
    panel = review_round.panel
    is_staff = user_can(current_user, "panels.manage", panel)
    codes = review.member_codes(panel)
    return render_template(
        "panels/review_round.html", review_round=review_round, panel=panel, stats=review.statistics(review_round),
        aggregation=reports.aggregation_rows(review_round), progress=review.progress(review_round),
        by_expert=review.progress_by_expert(review_round), codes=codes, show_names=is_staff,
        may_see_candidates=user_can(current_user, "panels.rounds"),
        close_form=close_form or CloseRoundForm(formdata=None),
    ), status


@blueprint.post("/panels/review-rounds/<id:review_round_id>/close")
@requires("panels.chair", load=ReviewRound, arg="review_round_id")
def close_review_round(review_round: ReviewRound):
    form = CloseRoundForm()
    if submit(form, lambda: review.close_round(review_round, form.reason.data, current_user)):
        flash(_("The round is closed."), "success")
        return redirect(url_for(".review_round", review_round_id=review_round.id))
    return _round_page(review_round, form, form_status(form))


@blueprint.route("/panels/<id:panel_id>/lock", methods=["GET", "POST"])
@requires("panels.chair", load=Panel, arg="panel_id")
def lock_results(panel: Panel):
    """The chair chooses the results among the final vote's items and justifies each."""
    tallies = review.final_tally(panel)
    limit = review.settings()["results"]
    form = StepForm()
    if request.method == "POST":
        chosen = [int(value) for value in request.form.getlist("candidate_id") if value.isdigit()]
        entries = [(candidate_id, request.form.get(f"justification-{candidate_id}")) for candidate_id in chosen]
        if submit(form, lambda: review.lock_results(panel, entries, current_user)):
            flash(_("The %(count)d frontier results are locked.", count=limit), "success")
            return redirect(url_for(".results", panel_id=panel.id))
        checked = set(chosen)
        texts = {candidate_id: text or "" for candidate_id, text in entries}
    else:
        current = {result.candidate_id: result.justification for result in panel.results}
        checked = set(current) or {tally.candidate.id for tally in tallies[:limit]}
        texts = current
    return render_template("panels/lock.html", panel=panel, tallies=tallies, limit=limit, checked=checked,
                           texts=texts, form=form, refusal=review.locking_refusal(panel)
                           if panel.status == PanelStatus.OPEN else None), form_status(form)


@blueprint.post("/panels/<id:panel_id>/reopen")
@requires("panels.reopen", load=Panel, arg="panel_id")
def reopen_results(panel: Panel):
    form = ReopenForm()
    if submit(form, lambda: review.reopen_results(panel, form.comment.data, current_user)):
        flash(_("The results are reopened."), "success")
    else:
        for message in form.form_errors:
            flash(message, "danger")
    return redirect(url_for(".results", panel_id=panel.id))


@blueprint.get("/panels/<id:panel_id>/results")
@requires("panels.view", load=Panel, arg="panel_id")
def results(panel: Panel):
    return render_template("panels/results.html", panel=panel, rows=reports.result_rows(panel),
                           reopen_form=ReopenForm(formdata=None),
                           may_reopen=user_can(current_user, "panels.reopen", panel),
                           may_chair=user_can(current_user, "panels.chair", panel))


@blueprint.get("/panels/review-rounds/<id:review_round_id>/scores.xlsx")
@requires("panels.chair", load=ReviewRound, arg="review_round_id")
def export_scores(review_round: ReviewRound):
    staff = user_can(current_user, "panels.manage", review_round.panel)
    return xlsx_response(reports.scores_workbook(review_round, with_names=staff), "panel-scores")


@blueprint.get("/panels/<id:panel_id>/results.xlsx")
@requires("panels.chair", load=Panel, arg="panel_id")
def export_results(panel: Panel):
    return xlsx_response(reports.results_workbook(panel), "frontier-results")


@blueprint.get("/panels/<id:panel_id>/report.pdf")
@requires("panels.chair", load=Panel, arg="panel_id")
def report_pdf(panel: Panel):
    if not panel.results:
        abort(404)
    staff = user_can(current_user, "panels.manage", panel)
    return reports.pdf_response(panel, with_names=staff)

