"""Selection rounds for the analysts and staff: the rounds, the upload of a ranking's output,
a round's lists, a list's candidates (paged, filtered, exported) and one candidate's score.
Expert panels: a round's panels, a panel (members, chair, opening, conflicts) and the expert
profiles the conflict checks read."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.accounts.models import User
from conference_app.core.db import paginate
from conference_app.core.excel import workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires, user_can
from conference_app.core.uploads import send_upload
from conference_app.extensions import db
from conference_app.panels import review, services
from conference_app.panels.forms import (
    CandidateFilterForm,
    DeclareForm,
    ExpertProfileForm,
    MemberForm,
    OverrideForm,
    PanelCreateForm,
    ReviewRoundForm,
    RoundUploadForm,
    StepForm,
)
from conference_app.panels.models import Candidate, ExpertProfile, Panel, PanelConflict, PanelStatus, SelectionRound
from conference_app.panels.workflow import PANEL
from selection.schema import CHART_FILES

blueprint = Blueprint("panels", __name__)

PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000


@blueprint.get("/panels/rounds/")
@requires("panels.rounds")
def rounds():
    pagination = paginate(services.rounds_query(), PER_PAGE)
    return render_template("panels/rounds.html", pagination=pagination)


@blueprint.route("/panels/rounds/import", methods=["GET", "POST"])
@requires("panels.rounds")
def import_round():
    """Upload a zip of the output folder of ``python -m selection rank``."""
    form = RoundUploadForm()
    result = []
    if submit(form, lambda: result.append(services.import_upload(form.file.data, form.name.data, current_user))):
        return imported_round_redirect(result[0])
    return render_template("panels/import.html", form=form), form_status(form)


def imported_round_redirect(imported):
    """Say what an import did (a new round, or the same file already imported) and open the round."""
    if imported.created:
        flash(_("Round %(name)s imported: %(count)d candidates.", name=imported.round.name,
                count=imported.round.candidate_count), "success")
    else:
        flash(_("This candidates file was already imported as round %(name)s; nothing was changed.",
                name=imported.round.name), "info")
    return redirect(url_for("panels.round_overview", round_id=imported.round.id))


@blueprint.get("/panels/rounds/<id:round_id>")
@requires("panels.rounds", load=SelectionRound, arg="round_id")
def round_overview(selection_round: SelectionRound):
    return render_template("panels/round.html", selection_round=selection_round,
                           lists=services.round_lists(selection_round), chart_titles=services.CHART_TITLES,
                           funnel=selection_round.summary.get("funnel") or {},
                           may_manage_panels=user_can(current_user, "panels.manage", selection_round))


@blueprint.get("/panels/rounds/<id:round_id>/charts/<chart>")
@requires("panels.rounds", load=SelectionRound, arg="round_id")
def chart(selection_round: SelectionRound, chart: str):
    if chart not in CHART_FILES:
        abort(404)
    return send_upload(path=services.chart_path(selection_round, chart), download_name=chart, mime_type="image/png")


def _list_or_404(selection_round: SelectionRound, discipline: str, group: str) -> dict:
    entry = services.find_list(selection_round, discipline, group)
    if entry is None:
        abort(404)
    return entry


@blueprint.get("/panels/rounds/<id:round_id>/lists/<discipline>/<group>")
@requires("panels.rounds", load=SelectionRound, arg="round_id")
def candidates(selection_round: SelectionRound, discipline: str, group: str):
    entry = _list_or_404(selection_round, discipline, group)
    filter_form = CandidateFilterForm(formdata=request.args)
    query = services.candidates_query(selection_round, discipline, group, **filter_form.filters())
    pagination = paginate(query, PER_PAGE)
    path_args = {"round_id": selection_round.id, "discipline": discipline, "group": group}
    return render_template("panels/candidates.html", selection_round=selection_round, entry=entry,
                           filter_form=filter_form, pagination=pagination, path_args=path_args)


@blueprint.get("/panels/rounds/<id:round_id>/lists/<discipline>/<group>/export.xlsx")
@requires("panels.rounds", load=SelectionRound, arg="round_id")
def export_candidates(selection_round: SelectionRound, discipline: str, group: str):
    entry = _list_or_404(selection_round, discipline, group)
    filter_form = CandidateFilterForm(formdata=request.args)
    query = services.candidates_query(selection_round, discipline, group, **filter_form.filters())
    rows = db.session.scalars(query.limit(EXPORT_MAX_ROWS))
    title = f"{entry['discipline_title']}-{entry['group_title']}"
    return xlsx_response(workbook_bytes(title, services.EXPORT_COLUMNS, rows), "candidates")


@blueprint.get("/panels/candidates/<id:candidate_id>")
@requires("panels.rounds", load=Candidate, arg="candidate_id")
def candidate(candidate: Candidate):
    score = services.explanation(candidate)
    return render_template(
        "panels/candidate.html", candidate=candidate, selection_round=candidate.round, score=score,
        parts=services.part_views(score), score_sentence=services.score_sentence(score, candidate),
        authors=services.author_views(candidate), discipline_title=services.discipline_title(candidate.discipline),
    )


# --- expert panels ---------------------------------------------------------------------------


@blueprint.route("/panels/rounds/<id:round_id>/panels", methods=["GET", "POST"])
@requires("panels.manage", load=SelectionRound, arg="round_id")
def round_panels(selection_round: SelectionRound):
    form = PanelCreateForm()
    form.discipline.choices = [(key, services.discipline_title(key))
                               for key in services.round_disciplines(selection_round)]
    created = []
    if submit(form, lambda: created.append(services.create_panel(selection_round, form.discipline.data,
                                                                 form.name.data, current_user))):
        flash(_("Panel %(name)s created.", name=created[0].name), "success")
        return redirect(url_for(".panel", panel_id=created[0].id))
    return render_template("panels/panels.html", selection_round=selection_round, form=form,
                           panels=services.panels_of_round(selection_round)), form_status(form)


def _member_form() -> MemberForm:
    form = MemberForm()
    form.user_id.choices = [(user.id, f"{user.name} ({user.email})") for user in services.expert_users()]
    return form


def _panel_page(panel: Panel, status: int = 200, **forms):
    members = panel.members
    profiles = {profile.user_id: profile for profile in db.session.scalars(
        db.select(ExpertProfile).where(ExpertProfile.user_id.in_([m.user_id for m in members])))}
    may_manage = user_can(current_user, "panels.manage", panel)
    if may_manage and "member_form" not in forms:
        forms["member_form"] = _member_form()
    forms.setdefault("override_form", OverrideForm(formdata=None))
    forms.setdefault("declare_form", DeclareForm(formdata=None))
    may_chair = user_can(current_user, "panels.chair", panel)
    stage = review.next_stage(panel) if panel.status == PanelStatus.OPEN else None
    if may_chair and stage is not None and "round_form" not in forms:
        forms["round_form"] = ReviewRoundForm(formdata=None, stage=stage.value)
    rounds = [(item, review.progress(item), review.progress(item, current_user.id)) for item in panel.review_rounds]
    return render_template(
        "panels/panel.html", panel=panel, selection_round=panel.round, members=members, profiles=profiles,
        discipline_title=services.discipline_title(panel.discipline), conflicts=services.panel_conflicts(panel),
        transitions=PANEL.available(panel, current_user), may_manage=may_manage,
        may_chair=may_chair, may_declare=user_can(current_user, "panels.declare", panel),
        rounds=rounds, next_stage=stage, review_settings=review.settings(), **forms,
    ), status


@blueprint.get("/panels/<id:panel_id>")
@requires("panels.view", load=Panel, arg="panel_id")
def panel(panel: Panel):
    return _panel_page(panel)


def _panel_step(panel: Panel, form, operation, done: str):
    if not submit(form, operation):
        name = "member_form" if isinstance(form, MemberForm) else "override_form" if isinstance(
            form, OverrideForm) else "declare_form" if isinstance(form, DeclareForm) else "step_form"
        return _panel_page(panel, form_status(form), **{name: form})
    flash(done, "success")
    return redirect(url_for(".panel", panel_id=panel.id))


def _chosen_user(form: MemberForm) -> User:
    user = db.session.get(User, form.user_id.data) if form.user_id.data else None
    if user is None:
        abort(404)
    return user


@blueprint.post("/panels/<id:panel_id>/members")
@requires("panels.manage", load=Panel, arg="panel_id")
def add_member(panel: Panel):
    form = _member_form()
    return _panel_step(panel, form, lambda: services.add_member(panel, _chosen_user(form), current_user),
                       _("Member added."))


@blueprint.post("/panels/<id:panel_id>/members/remove")
@requires("panels.manage", load=Panel, arg="panel_id")
def remove_member(panel: Panel):
    form = _member_form()
    return _panel_step(panel, form, lambda: services.remove_member(panel, _chosen_user(form), current_user),
                       _("Member removed."))


@blueprint.post("/panels/<id:panel_id>/chair")
@requires("panels.manage", load=Panel, arg="panel_id")
def set_chair(panel: Panel):
    form = _member_form()
    return _panel_step(panel, form, lambda: services.set_chair(panel, _chosen_user(form), current_user),
                       _("Chair named."))


@blueprint.post("/panels/<id:panel_id>/open")
@requires("panels.manage", load=Panel, arg="panel_id")
def open_panel(panel: Panel):
    return _panel_step(panel, StepForm(), lambda: services.open_panel(panel, current_user), _("Panel opened."))


@blueprint.post("/panels/<id:panel_id>/conflicts")
@requires("panels.chair", load=Panel, arg="panel_id")
def compute_conflicts(panel: Panel):
    return _panel_step(panel, StepForm(), lambda: services.compute_conflicts(panel, current_user),
                       _("Conflicts computed."))


@blueprint.post("/panels/conflicts/<id:conflict_id>/override")
@requires("panels.chair", load=PanelConflict, arg="conflict_id")
def override_conflict(panel_conflict: PanelConflict):
    form = OverrideForm()
    return _panel_step(panel_conflict.panel, form,
                       lambda: services.override_conflict(panel_conflict, form.comment.data, current_user),
                       _("Conflict overridden."))


@blueprint.post("/panels/<id:panel_id>/declare")
@requires("panels.declare", load=Panel, arg="panel_id")
def declare_conflict(panel: Panel):
    form = DeclareForm()
    return _panel_step(panel, form,
                       lambda: services.declare_conflict(panel, form.work_id.data, form.reason.data, current_user),
                       _("Conflict declared."))


@blueprint.get("/panels/profile")
@requires("panels.profile")
def my_profile():
    return redirect(url_for(".profile", user_id=current_user.id))


@blueprint.route("/panels/experts/<id:user_id>/profile", methods=["GET", "POST"])
@requires("panels.profile", load=User, arg="user_id")
def profile(user: User):
    existing = services.profile_of(user)
    choices = [(d.key, services.discipline_title(d.key)) for d in services.load_disciplines()]
    form = ExpertProfileForm(obj=existing, discipline_choices=choices)
    if existing is not None and request.method == "GET":
        form.institution_ids.data = " ".join(existing.institution_ids or [])
    if submit(form, lambda: services.save_profile(user, {
            "openalex_author_id": form.openalex_author_id.data, "orcid": form.orcid.data,
            "institution_ids": form.institution_ids.data, "disciplines": form.disciplines.data}, current_user),
            edits=existing):
        flash(_("Saved."), "success")
        return redirect(url_for(".profile", user_id=user.id))
    return render_template("panels/profile.html", expert=user, form=form), form_status(form)


from conference_app.panels import review_views  # noqa: E402,F401  (its routes join this blueprint)
from conference_app.panels.api import api_blueprint  # noqa: E402

blueprints = [blueprint, api_blueprint]
