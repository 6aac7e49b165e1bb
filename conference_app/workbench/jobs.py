"""The ``rank`` job: a finished harvest's works ranked with the analyst's settings, written as the
output set of ``python -m selection rank`` into ``<job folder>/ranking``.

Its parameters: ``harvest_job_id`` and ``settings`` (the rank form's values). The settings
become ``settings.toml`` in the job's folder, loaded by the library's own
``load_rank_settings``; the calls are those of ``python -m selection rank``.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.registry import JobContext, job_kind
from conference_app.workbench import services

RANK_STEPS = 4
OUTPUT_FILES = ("candidates.xlsx", "candidates.parquet", "summary.json", "score_distributions.png",
                "topic_shares.png", "indicator_correlations.png")


def check_rank_params(params: dict) -> dict:
    """The parameters ``start_job`` stores: a finished harvest's id and settings the library accepts."""
    harvest_id = params.get("harvest_job_id")
    harvest = db.session.get(Job, harvest_id) if isinstance(harvest_id, int) else None
    if harvest is None or harvest.kind != services.HARVEST_KIND or harvest.state != JobState.FINISHED:
        raise ServiceError(_("Choose a finished harvest to rank."))
    settings = params.get("settings")
    if not isinstance(settings, dict):
        raise ServiceError(_("The ranking settings are missing."))
    problem = services.rank_settings_problem(settings)
    if problem is not None:
        raise ServiceError(problem[1])
    return {"harvest_job_id": harvest_id, "settings": settings}


@job_kind(services.RANK_KIND, _l("Candidate ranking"), check=check_rank_params)
def rank(context: JobContext) -> list[dict]:
    """Rank the harvest's works.parquet; outputs the workbook, the tables, the summary, the charts."""
    from selection.disciplines import load_disciplines
    from selection.errors import SelectionError
    from selection.files import file_sha256, write_atomic
    from selection.ranking.rank import load_works, rank_works
    from selection.ranking.report import write_report

    harvest = db.session.get(Job, context.params["harvest_job_id"])
    if harvest is None:
        raise ServiceError(_("The harvest to rank no longer exists."))
    works_path = services.harvest_folder(harvest) / services.WORKS_FILE
    settings_path = context.work_dir / services.SETTINGS_FILE
    try:
        context.progress(0, RANK_STEPS, _("steps"), message=_("Checking the settings"))
        write_atomic(settings_path, services.rank_settings_toml(context.params["settings"]).encode("utf-8"))
        settings = services.load_rank_settings_file(settings_path)
        disciplines = load_disciplines()
        context.progress(1, RANK_STEPS, _("steps"), message=_("Reading the works"))
        works = load_works(works_path)
        context.log(_("%(count)d works read from harvest #%(id)d", count=len(works), id=harvest.id))
        context.progress(2, RANK_STEPS, _("steps"), message=_("Ranking"))
        result = rank_works(works, settings, disciplines)
        context.progress(3, RANK_STEPS, _("steps"), message=_("Writing the candidate lists"))
        input_info = {"path": str(works_path), "sha256": file_sha256(works_path), "rows": len(works)}
        write_report(result, disciplines, input_info, context.work_dir / services.RANKING_FOLDER)
    except SelectionError as error:
        raise ServiceError(_("The ranking stopped: %(reason)s", reason=str(error))) from None
    context.log(_("%(candidates)d candidates in %(lists)d lists, %(short)d short of their quota",
                  candidates=len(result.candidates), lists=len(result.lists), short=len(result.shortfalls)))
    context.progress(RANK_STEPS, RANK_STEPS, _("steps"), message=_("Done"))
    return [{"label": name, "path": f"{services.RANKING_FOLDER}/{name}"} for name in OUTPUT_FILES] + [
        {"label": services.SETTINGS_FILE, "path": services.SETTINGS_FILE}]
