"""The Top-10 influential conferences: staff run the rounds, experts score their nominations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from conference_app.accounts.models import User
from conference_app.core.excel import Column, workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import Role, requires
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import BEIJING
from conference_app.events.forms.common import CommentForm
from conference_app.events.forms.influence import (
    InfluenceRoundForm,
    NominationForm,
    ReviewersForm,
    score_form,
)
from conference_app.events.models import InfluenceNomination, InfluenceRound
from conference_app.events.services import influence
from conference_app.events.views import blueprint
from conference_app.events.workflow import INFLUENCE_ROUND
from conference_app.extensions import db


@blueprint.route("/manage/influence", methods=["GET", "POST"])
@requires("events.influence_manage")
def influence_rounds():
    """Staff: the rounds by year, and a form to open the next one."""
    form = InfluenceRoundForm()
    created = []
    if submit(form, lambda: created.append(influence.open_round(form.year.data, criteria=form.criteria(),
                                                                  winners=form.winners.data))):
        flash(_("The %(year)d round is open for nominations.", year=created[0].year), "success")
        return redirect(url_for(".influence_round", round_id=created[0].id))
    rounds = db.session.scalars(select(InfluenceRound).order_by(InfluenceRound.year.desc())).all()
    return render_template("events/influence/rounds.html", rounds=rounds, form=form), form_status(form)


def _round_page(influence_round: InfluenceRound, status: int = 200, **forms):
    loaded = influence.round_with_everything(influence_round.id)
    nomination_form = forms.get("nomination_form") or NominationForm(formdata=None)
    nomination_form.event_id.choices = [
        SelectChoice(event.id, f"{event.starts_at.astimezone(BEIJING):%Y-%m-%d} {event.title_zh}")
        for event in influence.nominable_events(loaded)
    ]
    reviewers_form = forms.get("reviewers_form") or ReviewersForm(
        formdata=None, data={"reviewer_ids": [r.user_id for r in loaded.reviewers]})
    reviewers_form.reviewer_ids.choices = _expert_choices()
    return render_template(
        "events/influence/round.html",
        influence_round=loaded,
        results=influence.results(loaded),
        criteria=loaded.criteria,
        criterion_name=influence.criterion_name,
        transitions=INFLUENCE_ROUND.available(loaded, current_user),
        nomination_form=nomination_form,
        reviewers_form=reviewers_form,
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
    ), status


def _expert_choices() -> list[SelectChoice]:
    experts = db.session.scalars(select(User).where(User.role == Role.EXPERT, User.is_enabled).order_by(User.name))
    return [SelectChoice(user.id, f"{user.name} <{user.email}>") for user in experts]


@blueprint.get("/manage/influence/<id:round_id>")
@requires("events.influence_manage", load=InfluenceRound, arg="round_id")
def influence_round(influence_round: InfluenceRound):
    return _round_page(influence_round)


@blueprint.post("/manage/influence/<id:round_id>/nominations")
@requires("events.influence_manage", load=InfluenceRound, arg="round_id")
def influence_nominate(influence_round: InfluenceRound):
    form = NominationForm()
    form.event_id.choices = []

    def operation():
        from conference_app.events.models import Event

        event = db.session.get(Event, form.event_id.data or 0)
        if event is None:
            raise ServiceError(_("Please choose a conference."))
        influence.nominate(influence_round, event, form.reason.data)

    if submit(form, operation):
        flash(_("Nominated."), "success")
        return redirect(url_for(".influence_round", round_id=influence_round.id))
    return _round_page(influence_round, form_status(form), nomination_form=form)


@blueprint.post("/manage/influence/<id:round_id>/nominations/<id:nomination_id>/withdraw")
@requires("events.influence_manage", load=InfluenceNomination, arg="nomination_id", within=("round_id", "round_id"))
def influence_withdraw(influence_nomination: InfluenceNomination):
    influence_round = influence_nomination.round
    if submit(CommentForm(), lambda: influence.withdraw_nomination(influence_nomination)):
        flash(_("The nomination is withdrawn."), "success")
    return redirect(url_for(".influence_round", round_id=influence_round.id))


@blueprint.post("/manage/influence/<id:round_id>/reviewers")
@requires("events.influence_manage", load=InfluenceRound, arg="round_id")
def influence_reviewers(influence_round: InfluenceRound):
    form = ReviewersForm()
    form.reviewer_ids.choices = _expert_choices()
    if submit(form, lambda: influence.set_reviewers(influence_round, form.reviewer_ids.data)):
        flash(_("The experts of the round are saved."), "success")
        return redirect(url_for(".influence_round", round_id=influence_round.id))
    return _round_page(influence_round, form_status(form), reviewers_form=form)


@blueprint.post("/manage/influence/<id:round_id>/steps/<step>")
@requires("events.influence_manage", load=InfluenceRound, arg="round_id")
def influence_step(influence_round: InfluenceRound, step: str):
    if step not in INFLUENCE_ROUND.transitions:
        abort(404)
    form = CommentForm()
    if submit(form, lambda: influence.change_round(influence_round, step, actor=current_user,
                                                   comment=form.comment.data)):
        flash(_("Done: %(step)s.", step=INFLUENCE_ROUND.transition(step).title), "success")
        return redirect(url_for(".influence_round", round_id=influence_round.id))
    return _round_page(influence_round, form_status(form), comment_form=form)


@blueprint.get("/manage/influence/<id:round_id>/result.xlsx")
@requires("events.influence_manage", load=InfluenceRound, arg="round_id")
def influence_export(influence_round: InfluenceRound):
    loaded = influence.round_with_everything(influence_round.id)
    columns = [
        Column(_l("Rank"), lambda row: row[1].rank, 8),
        Column(_l("Selected"), lambda row: _("Yes") if row[1].selected else "", 8),
        Column(_l("Conference"), lambda row: row[0].event.title_zh, 40),
        Column(_l("Holding organisations"), lambda row: "、".join(link.organisation.name_zh
                                                          for link in row[0].event.organisations), 36),
        Column(_l("Starts"), lambda row: row[0].event.starts_at, 18),
        Column(_l("Score"), lambda row: row[1].score, 10),
    ] + [
        Column(criterion["name_zh"], lambda row, code=criterion["code"]: row[1].by_criterion.get(code), 14)
        for criterion in loaded.criteria
    ] + [
        Column(_l("Lowest expert total"), lambda row: row[1].lowest, 14),
        Column(_l("Highest expert total"), lambda row: row[1].highest, 14),
        Column(_l("Standard deviation"), lambda row: row[1].stdev, 12),
        Column(_l("Experts who scored"), lambda row: len(row[1].reviewer_totals), 12),
    ]
    title = _l("Top-10 influential conferences %(year)d", year=loaded.year)
    return xlsx_response(workbook_bytes(title, columns, influence.results(loaded)), f"influence-{loaded.year}")


# --- experts -----------------------------------------------------------------------------------


def _score_page(influence_round: InfluenceRound, status: int = 200, failed: tuple[int, object] | None = None):
    loaded = influence.round_with_everything(influence_round.id)
    given = influence.my_scores(loaded, current_user)
    forms = {}
    for nomination in loaded.nominations:
        if failed is not None and failed[0] == nomination.id:
            forms[nomination.id] = failed[1]
            continue
        data = {f"score_{code}": score for code, score in given.get(nomination.id, {}).items()}
        forms[nomination.id] = score_form(loaded.criteria, influence.criterion_name, formdata=None, data=data)
    return render_template("events/influence/score.html", influence_round=loaded, forms=forms, given=given,
                           criteria=loaded.criteria, criterion_name=influence.criterion_name), status


@blueprint.get("/influence/<id:round_id>/score")
@requires("events.influence_score", load=InfluenceRound, arg="round_id")
def influence_score(influence_round: InfluenceRound):
    """An expert's scoring sheet: every nomination of the round, one form each."""
    return _score_page(influence_round)


@blueprint.post("/influence/<id:round_id>/nominations/<id:nomination_id>/score")
@requires("events.influence_score", load=InfluenceRound, arg="round_id")
def influence_save_score(influence_round: InfluenceRound, nomination_id: int):
    nomination = db.session.get(InfluenceNomination, nomination_id)
    if nomination is None or nomination.round_id != influence_round.id:
        abort(404)
    form = score_form(influence_round.criteria, influence.criterion_name, formdata=request.form)
    scores = {c["code"]: form[f"score_{c['code']}"].data or None for c in influence_round.criteria}
    if submit(form, lambda: influence.save_scores(nomination, current_user, scores, form.comment.data)):
        flash(_("Your scores of %(title)s are saved.", title=nomination.event.title_zh), "success")
        return redirect(url_for(".influence_score", round_id=influence_round.id, _anchor=f"n{nomination.id}"))
    return _score_page(influence_round, form_status(form), failed=(nomination.id, form))
