"""Selection rounds for the analysts and staff: the rounds, the upload of a ranking's output,
a round's lists, a list's candidates (paged, filtered, exported) and one candidate's score."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from conference_app.core.db import paginate
from conference_app.core.excel import workbook_bytes, xlsx_response
from conference_app.core.forms import form_status, submit
from conference_app.core.permissions import requires
from conference_app.core.uploads import send_upload
from conference_app.extensions import db
from conference_app.panels import services
from conference_app.panels.forms import CandidateFilterForm, RoundUploadForm
from conference_app.panels.models import Candidate, SelectionRound
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
        imported = result[0]
        if imported.created:
            flash(_("Round %(name)s imported: %(count)d candidates.", name=imported.round.name,
                    count=imported.round.candidate_count), "success")
        else:
            flash(_("This candidates file was already imported as round %(name)s; nothing was changed.",
                    name=imported.round.name), "info")
        return redirect(url_for(".round_overview", round_id=imported.round.id))
    return render_template("panels/import.html", form=form), form_status(form)


@blueprint.get("/panels/rounds/<id:round_id>")
@requires("panels.rounds", load=SelectionRound, arg="round_id")
def round_overview(selection_round: SelectionRound):
    return render_template("panels/round.html", selection_round=selection_round,
                           lists=services.round_lists(selection_round), chart_titles=services.CHART_TITLES,
                           funnel=selection_round.summary.get("funnel") or {})


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
