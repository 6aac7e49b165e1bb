"""The analyst's workbench: the overview, a new harvest, a harvest's manifest and institution
list (and its renormalisation), an institution list refreshed from a server, a new ranking, a
ranking's lists and charts (and its import as a selection round), and two rankings compared.
Each starts a background job; the jobs' live pages and downloads are the jobs package's."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.core.excel import workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import ensure_can, requires
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs.models import ACTIVE_STATES, Job, JobState
from conference_app.workbench import jobs as _kinds  # noqa: F401  (registers the workbench's job kinds)
from conference_app.workbench import presenters, services
from conference_app.workbench.forms import (
    HarvestForm,
    ImportRoundForm,
    InstitutionRowForm,
    InstitutionsRefreshForm,
    RankForm,
)
from selection.schema import CHART_FILES

blueprint = Blueprint("workbench", __name__, url_prefix="/workbench")


def _of_kind(job: Job, kind: str) -> Job:
    """The job when it is of ``kind`` (else 404) and the user's own (else 403)."""
    if job.kind != kind:
        abort(404)
    ensure_can("jobs.view", job)
    return job


@blueprint.get("/")
@requires("workbench.view")
def overview():
    recent = services.recent_jobs(current_user)
    return render_template("workbench/overview.html", harvests=recent["harvests"], rankings=recent["rankings"],
                           lists=recent["lists"], label=services.job_label)


def _list_jobs() -> dict[str, Job]:
    """The user's jobs whose institution list a harvest can use (or a refresh keep the hand-added rows of)."""
    return {str(job.id): job for job in services.list_jobs(current_user)}


@blueprint.route("/harvests/new", methods=["GET", "POST"])
@requires("workbench.view")
def new_harvest():
    list_jobs = _list_jobs()
    form = HarvestForm(discipline_choices=services.discipline_choices(),
                       list_choices=[(job_id, services.list_choice_label(job)) for job_id, job in list_jobs.items()])
    if not form.is_submitted():
        defaults = services.harvest_defaults()
        form.base_url.data, form.rate.data = defaults["base_url"], defaults["rate"]
        form.institutions.data = request.args.get("institutions", "")
    started = []
    if submit(form, lambda: started.append(services.start_harvest(
            form.data, form.api_key.data, list_jobs.get(form.institutions.data), current_user))):
        flash(_("Harvest #%(id)d started.", id=started[0].id), "success")
        return redirect(url_for("jobs.detail", job_id=started[0].id))
    return render_template("workbench/new_harvest.html", form=form), form_status(form)


@blueprint.get("/harvests/<id:job_id>")
@requires("workbench.view", load=Job, arg="job_id")
def harvest(job: Job):
    return _harvest_page(_of_kind(job, services.HARVEST_KIND), InstitutionRowForm(formdata=None))


def _harvest_page(job: Job, row_form: InstitutionRowForm, problem: str | None = None):
    manifest = services.read_manifest(job)
    return render_template(
        "workbench/harvest.html", job=job, label=services.job_label(job), manifest=manifest,
        missing=services.missing_fields(manifest) if manifest else [], listing=services.institution_list(job),
        by_discipline=presenters.by_discipline(manifest), row_form=row_form, active=job.state in ACTIVE_STATES,
        may_rank=job.state == JobState.FINISHED, status_titles=services.MANIFEST_STATUS_TITLES,
        may_renormalise=job.state == JobState.FINISHED and (manifest or {}).get("status") == "complete",
        renormalisations=services.renormalisations(job, current_user), renormalised=presenters.renormalised_rows(manifest),
        problem=problem, label_of=services.job_label)


@blueprint.post("/harvests/<id:job_id>/renormalise")
@requires("workbench.view", load=Job, arg="job_id")
def renormalise(job: Job):
    _of_kind(job, services.HARVEST_KIND)
    try:
        started = services.start_renormalise(job, current_user)
    except ServiceError as error:
        db.session.rollback()
        return _harvest_page(job, InstitutionRowForm(formdata=None), problem=error.message), error.status
    flash(_("Renormalisation #%(id)d started.", id=started.id), "success")
    return redirect(url_for("jobs.detail", job_id=started.id))


# --- institution lists: a harvest's, or one refreshed from a server ----------------------------


def _list_page(job: Job, row_form: InstitutionRowForm):
    if job.kind == services.HARVEST_KIND:
        return _harvest_page(job, row_form)
    return render_template("workbench/institutions.html", job=job, label=services.job_label(job),
                           listing=services.institution_list(job), row_form=row_form,
                           active=job.state in ACTIVE_STATES)


def _list_url(job: Job) -> str:
    endpoint = ".harvest" if job.kind == services.HARVEST_KIND else ".institution_list"
    return url_for(endpoint, job_id=job.id, _anchor="institutions")


def _add_row(job: Job):
    form = InstitutionRowForm()
    if submit(form, lambda: services.add_institution(job, form.institution_id.data, form.display_name.data,
                                                     current_user)):
        flash(_("Institution added to the list."), "success")
        return redirect(_list_url(job))
    return _list_page(job, form), form_status(form)


def _remove_row(job: Job, institution: str):
    try:
        services.remove_institution(job, institution, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(_("Institution %(id)s removed from the list.", id=institution), "success")
    return redirect(_list_url(job))


def _list_csv(job: Job):
    path = services.institution_list_file(job)
    if path is None:
        abort(404)
    prefix = "harvest" if job.kind == services.HARVEST_KIND else "refresh"
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"{prefix}-{job.id}-institutions.csv")


@blueprint.post("/harvests/<id:job_id>/institutions")
@requires("workbench.view", load=Job, arg="job_id")
def add_institution(job: Job):
    return _add_row(_of_kind(job, services.HARVEST_KIND))


@blueprint.post("/harvests/<id:job_id>/institutions/<institution>/remove")
@requires("workbench.view", load=Job, arg="job_id")
def remove_institution(job: Job, institution: str):
    return _remove_row(_of_kind(job, services.HARVEST_KIND), institution)


@blueprint.get("/harvests/<id:job_id>/institutions.csv")
@requires("workbench.view", load=Job, arg="job_id")
def institutions_csv(job: Job):
    return _list_csv(_of_kind(job, services.HARVEST_KIND))


@blueprint.route("/institutions/new", methods=["GET", "POST"])
@requires("workbench.view")
def new_institutions():
    list_jobs = _list_jobs()
    form = InstitutionsRefreshForm(list_choices=[(job_id, services.list_choice_label(job))
                                                 for job_id, job in list_jobs.items()])
    if not form.is_submitted():
        defaults = services.harvest_defaults()
        form.base_url.data, form.rate.data = defaults["base_url"], defaults["rate"]
        form.current_list.data = request.args.get("current", "")
    started = []
    if submit(form, lambda: started.append(services.start_institutions_refresh(
            form.data, form.api_key.data, list_jobs.get(form.current_list.data), current_user))):
        flash(_("Institution list refresh #%(id)d started.", id=started[0].id), "success")
        return redirect(url_for("jobs.detail", job_id=started[0].id))
    return render_template("workbench/new_institutions.html", form=form), form_status(form)


@blueprint.get("/institutions/<id:job_id>")
@requires("workbench.view", load=Job, arg="job_id")
def institution_list(job: Job):
    return _list_page(_of_kind(job, services.INSTITUTIONS_KIND), InstitutionRowForm(formdata=None))


@blueprint.post("/institutions/<id:job_id>/rows")
@requires("workbench.view", load=Job, arg="job_id")
def add_list_row(job: Job):
    return _add_row(_of_kind(job, services.INSTITUTIONS_KIND))


@blueprint.post("/institutions/<id:job_id>/rows/<institution>/remove")
@requires("workbench.view", load=Job, arg="job_id")
def remove_list_row(job: Job, institution: str):
    return _remove_row(_of_kind(job, services.INSTITUTIONS_KIND), institution)


@blueprint.get("/institutions/<id:job_id>/institutions.csv")
@requires("workbench.view", load=Job, arg="job_id")
def list_csv(job: Job):
    return _list_csv(_of_kind(job, services.INSTITUTIONS_KIND))


@blueprint.route("/rankings/new", methods=["GET", "POST"])
@requires("workbench.view")
def new_ranking():
    harvests = {str(job.id): job for job in services.finished_harvests(current_user)}
    form = RankForm(harvest_choices=[(job_id, services.job_label(job)) for job_id, job in harvests.items()])
    if not form.is_submitted():
        presenters.fill_rank_form(form, services.default_rank_values())
        if request.args.get("harvest") in harvests:
            form.harvest.data = request.args["harvest"]
    started = []
    if submit(form, lambda: started.append(services.start_ranking(harvests[form.harvest.data],
                                                                  form.settings_values(), current_user))):
        flash(_("Ranking #%(id)d started.", id=started[0].id), "success")
        return redirect(url_for("jobs.detail", job_id=started[0].id))
    return render_template("workbench/new_ranking.html", form=form, has_harvests=bool(harvests)), form_status(form)


@blueprint.get("/rankings/<id:job_id>")
@requires("workbench.view", load=Job, arg="job_id")
def ranking(job: Job):
    return _ranking_page(_of_kind(job, services.RANK_KIND))


def _ranking_page(job: Job, import_form: ImportRoundForm | None = None):
    view = services.ranking_view(job) if job.state == JobState.FINISHED else None
    if import_form is None:
        import_form = ImportRoundForm(formdata=None, name=services.default_round_name(job))
    others = [other for other in services.finished_rankings(current_user) if other.id != job.id]
    imports = services.import_jobs(job, current_user)
    return render_template(
        "workbench/ranking.html", job=job, label=services.job_label(job), view=view,
        harvest=services.source_harvest(job), import_form=import_form, others=others,
        imported=services.imported_round(job), imports=imports, importing=any(
            other.state in ACTIVE_STATES for other in imports), round_of=services.round_of_import,
        label_of=services.job_label, settings_rows=presenters.settings_rows(job.params.get("settings") or {}),
        funnel_chart=presenters.funnel_chart(view) if view else None, chart_files=CHART_FILES,
        chart_titles=presenters.chart_titles())


@blueprint.get("/rankings/<id:job_id>/charts/<chart>")
@requires("workbench.view", load=Job, arg="job_id")
def chart(job: Job, chart: str):
    _of_kind(job, services.RANK_KIND)
    path = services.ranking_folder(job) / chart
    if chart not in CHART_FILES or not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png", max_age=0)


@blueprint.post("/rankings/<id:job_id>/import")
@requires("workbench.view", load=Job, arg="job_id")
def import_round(job: Job):
    _of_kind(job, services.RANK_KIND)
    ensure_can("panels.rounds")
    form = ImportRoundForm()
    started = []
    if submit(form, lambda: started.append(services.start_import(job, form.name.data, current_user))):
        flash(_("The import as round %(name)s has started.", name=started[0].params["name"]), "success")
        return redirect(url_for("jobs.detail", job_id=started[0].id))
    return _ranking_page(job, form), form_status(form)


def _compared_rankings() -> tuple[Job, Job] | None:
    """The rankings ``a`` and ``b`` of the query string; None when either is not given; 404 for
    one that is not a finished ranking the user may see."""
    ids = [request.args.get(name, "") for name in ("a", "b")]
    if not all(value.isdigit() and 0 < int(value) < 2**31 for value in ids):
        return None
    found = []
    for value in ids:
        job = db.session.get(Job, int(value))
        if job is None or job.state != JobState.FINISHED:
            abort(404)
        found.append(_of_kind(job, services.RANK_KIND))
    return found[0], found[1]


@blueprint.get("/compare")
@requires("workbench.view")
def compare():
    pair = _compared_rankings()
    rankings = services.finished_rankings(current_user)
    if pair is None:
        return render_template("workbench/compare_choose.html", rankings=rankings, label=services.job_label)
    first, second = pair
    pair = services.compare_rankings(first, second)
    return render_template("workbench/compare.html", first=first, second=second, label=services.job_label,
                           page=presenters.comparison_page(pair, first, second),
                           chart_files=CHART_FILES[:2], chart_titles=presenters.chart_titles())


@blueprint.get("/compare/export.xlsx")
@requires("workbench.view")
def compare_export():
    pair = _compared_rankings()
    if pair is None:
        abort(404)
    first, second = pair
    rows = presenters.comparison_rows(services.compare_rankings(first, second).comparison)
    title = _("Ranking #%(a)d and #%(b)d", a=first.id, b=second.id)
    return xlsx_response(workbook_bytes(title, presenters.comparison_columns(first, second), rows), "comparison")
