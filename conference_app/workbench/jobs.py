"""The workbench's job kinds, each what a ``python -m selection`` command does, run in the job's folder:

- ``rank``: a finished harvest's works ranked with the analyst's settings (``selection rank``),
  into ``ranking/``. Parameters ``harvest_job_id`` and ``settings`` (the rank form's values,
  written as ``settings.toml`` and loaded by the library's own ``load_rank_settings``).
- ``institutions``: the Beijing institution list refreshed from a server (``selection
  institutions``), into ``institutions.csv``. Parameters ``base_url``, ``mailto``, ``rate`` and
  ``current_list_job_id`` (the harvest or refresh whose hand-added rows to keep; default: the
  packaged list's); the API key is a secret, as a harvest's.
- ``renormalise``: a finished harvest's ``works.parquet`` rebuilt from its raw pages (``selection
  renormalise``) in the harvest's folder; the new table and manifest are linked in ``renormalised/``.
  Parameter ``harvest_job_id``.
- ``import_round``: a finished ranking imported as a selection round (the panels' import,
  committed as soon as it is done). Parameters ``ranking_job_id`` and ``name``; ``round.json``
  names the round and links it.

A job refuses to work on another user's job (its user must see it) and says why in Chinese.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.db import lock, unit_of_work
from conference_app.core.mail import public_url
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.extensions import db
from conference_app.jobs.models import Job, JobState
from conference_app.jobs.registry import JobCancelled, JobContext, job_kind
from conference_app.workbench import services
from selection.errors import SelectionError
from selection.openalex.client import DEFAULT_BASE_URL, DEFAULT_RATE, OpenAlexClient

RANK_STEPS = 4
OUTPUT_FILES = ("candidates.xlsx", "candidates.parquet", "summary.json", "score_distributions.png",
                "topic_shares.png", "indicator_correlations.png")
RENORMALISED_FOLDER = "renormalised"
MAX_RATE = 1000.0


def _job_of(job_id, kinds, message) -> Job:
    """The job ``job_id`` when it is of one of ``kinds``; else a ServiceError with ``message``."""
    known = isinstance(job_id, int) and not isinstance(job_id, bool) and 0 < job_id < 2**31  # a PostgreSQL integer
    job = db.session.get(Job, job_id) if known else None
    if job is None or job.kind not in kinds:
        raise ServiceError(message)
    return job


def _ensure_theirs(context: JobContext, job: Job) -> None:
    """A job works only on jobs its user may see (one started from the command line on any)."""
    user = context.user
    if context.user_id is not None and (user is None or not user_can(user, "jobs.view", job)):
        raise ServiceError(_("%(job)s is another user's: a job works only on your own.",
                             job=services.job_label(job)), 403)


def _finish(context: JobContext, done: float, unit: str) -> None:
    """The last progress report of a job whose work is done (a late cancellation changes nothing)."""
    try:
        context.progress(done, done, unit, message=_("Done"))
    except JobCancelled:
        context.log("cancellation requested after the work was done: the job finishes")


# --- rank -----------------------------------------------------------------------------------------


def check_rank_params(params: dict) -> dict:
    """The parameters ``start_job`` stores: a finished harvest's id and settings the library accepts."""
    harvest = _job_of(params.get("harvest_job_id"), {services.HARVEST_KIND}, _("Choose a finished harvest to rank."))
    if harvest.state != JobState.FINISHED:
        raise ServiceError(_("Choose a finished harvest to rank."))
    settings = params.get("settings")
    if not isinstance(settings, dict):
        raise ServiceError(_("The ranking settings are missing."))
    problem = services.rank_settings_problem(settings)
    if problem is not None:
        raise ServiceError(problem[1])
    return {"harvest_job_id": harvest.id, "settings": settings}


@job_kind(services.RANK_KIND, _l("Candidate ranking"), check=check_rank_params, start_permission="workbench.view")
def rank(context: JobContext) -> list[dict]:
    """Rank the harvest's works.parquet; outputs the workbook, the tables, the summary, the charts."""
    from selection.disciplines import load_disciplines
    from selection.files import file_sha256, write_atomic
    from selection.ranking.rank import load_works, rank_works
    from selection.ranking.report import write_report

    harvest = db.session.get(Job, context.params["harvest_job_id"])
    if harvest is None:
        raise ServiceError(_("The harvest to rank no longer exists."))
    _ensure_theirs(context, harvest)
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


# --- institutions ---------------------------------------------------------------------------------


def check_institutions_params(params: dict) -> dict:
    """The server to ask (``base_url``, ``mailto``, ``rate``) and the list whose hand-added rows
    to keep (``current_list_job_id``, frozen as ``current_path`` now: the refresh keeps the rows
    as they were when it was started)."""
    base_url = params.get("base_url") or os.environ.get("OPENALEX_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(base_url, str) or not re.fullmatch(r"https?://[^/\s]+(/\S*)?", base_url.strip()):
        raise ServiceError(_("The OpenAlex address must be an http(s) URL."))
    mailto = params.get("mailto") or None
    if mailto is not None and (not isinstance(mailto, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+", mailto)):
        raise ServiceError(_("The contact address must be an e-mail address."))
    rate = params.get("rate", DEFAULT_RATE)
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate <= MAX_RATE:
        raise ServiceError(_("The request rate must be a positive number of requests per second, at most %(max)d.",
                             max=MAX_RATE))
    checked = {"base_url": base_url.strip().rstrip("/"), "mailto": mailto, "rate": float(rate),
               "current_list_job_id": None, "current_path": None}
    if params.get("current_list_job_id") is not None:
        source = _job_of(params["current_list_job_id"], services.LIST_KINDS,
                         _("Choose a harvest or a refreshed list whose hand-added rows to keep."))
        checked["current_list_job_id"] = source.id
        checked["current_path"] = str(services.frozen_list_copy(source))
    return checked


class _ReportingClient(OpenAlexClient):
    """An OpenAlex client that reports each page it fetched to the job (and stops it there once
    it is cancelled), so the library's own loop over the pages is what runs."""

    def __init__(self, context: JobContext, **options) -> None:
        super().__init__(**options)
        self.context = context
        self.pages = self.seen = 0

    def fetch(self, url: str):
        page = super().fetch(url)
        self.pages += 1
        self.seen += len(page.data.get("results") or [])
        total = (page.data.get("meta") or {}).get("count")
        self.context.progress(self.seen, total if isinstance(total, int) else None, _("institutions"),
                              message=_("%(pages)d pages fetched", pages=self.pages))
        return page


# What the library says when the server refuses -> the reader's message.
_SERVER_REFUSALS = (
    ("rejected the API key", _l("The server refused the API key.")),
    ("cannot reach", _l("The server cannot be reached: check its address.")),
    ("daily OpenAlex budget", _l("The daily budget of this API key is spent; try again after midnight UTC.")),
)


def _server_refusal(error: SelectionError) -> ServiceError:
    text = str(error)
    message = next((str(message) for key, message in _SERVER_REFUSALS if key in text), None)
    return ServiceError(message or _("The refresh stopped: %(reason)s", reason=text))


@job_kind(services.INSTITUTIONS_KIND, _l("Institution list refresh"), check=check_institutions_params,
          start_permission="workbench.view")
def refresh_institutions(context: JobContext) -> list[dict]:
    """The list of ``python -m selection institutions --out institutions.csv --current ...``: every
    institution the server places in Beijing, plus the hand-added rows of the current list."""
    from selection.institutions import (
        DEFAULT_INSTITUTIONS_PATH,
        beijing_institutions_from_openalex,
        load_institution_list,
        merge_refresh,
        write_institution_list,
    )
    params = context.params
    if params.get("current_list_job_id") is not None:
        _ensure_theirs(context, _job_of(params["current_list_job_id"], services.LIST_KINDS,
                                        _("The list whose hand-added rows to keep no longer exists.")))
    client = _ReportingClient(context, base_url=params["base_url"], api_key=context.secrets.get("api_key"),
                              mailto=params["mailto"], rate=params["rate"])
    if client.api_key is None and client.base_url == DEFAULT_BASE_URL:
        raise ServiceError(_("api.openalex.org needs an API key: start the refresh with one."))
    current_path = Path(params.get("current_path") or DEFAULT_INSTITUTIONS_PATH)
    try:
        current = load_institution_list(current_path)
        context.log(f"refresh from {client.base_url}, keeping the manual rows of "
                    + (f"the list of job #{params['current_list_job_id']}" if params.get("current_path")
                       else "the packaged list"))
        found = beijing_institutions_from_openalex(client)
    except SelectionError as error:
        raise _server_refusal(error) from None
    if not found:
        raise ServiceError(_("%(server)s places no institution in Beijing, so the list cannot be built from it.",
                             server=client.base_url))
    merged = merge_refresh(current, found)
    write_institution_list(merged, context.work_dir / services.REFRESHED_LIST_FILE)
    geo = sum(entry.reason == "geo" for entry in merged.values())
    context.log(f"{len(merged)} institutions ({geo} by geo, {len(merged) - geo} manual); "
                f"{client.stats.requests} requests")
    _finish(context, client.seen, _("institutions"))
    return [{"label": services.REFRESHED_LIST_FILE, "path": services.REFRESHED_LIST_FILE}]


# --- renormalise ----------------------------------------------------------------------------------


def check_renormalise_params(params: dict) -> dict:
    """A finished, complete harvest that no other renormalisation is working on."""
    harvest = _job_of(params.get("harvest_job_id"), {services.HARVEST_KIND}, _("Choose a harvest to renormalise."))
    manifest = services.read_manifest(harvest) or {}
    if harvest.state != JobState.FINISHED or manifest.get("status") != "complete":
        raise ServiceError(_("Only a finished harvest can be renormalised."), 409)
    lock(f"renormalise-{harvest.id}")
    if services.jobs_of(services.RENORMALISE_KIND, "harvest_job_id", harvest, active=True):
        raise ServiceError(_("A renormalisation of this harvest is already under way."), 409)
    return {"harvest_job_id": harvest.id}


# What ``renormalise`` says -> the reader's message.
_RENORMALISE_REFUSALS = (
    ("not complete", _l("The harvest is not complete: resume it to the end first.")),
    ("is not finished", _l("A part of the harvest is not finished: resume it to the end first.")),
    ("no raw pages", _l("The harvest kept no raw pages to rebuild from: harvest again.")),
    ("which renormalise needs", _l("The harvest lacks a state file renormalising needs: harvest again.")),
    ("is damaged", _l("A state file of the harvest is damaged: harvest again.")),
)


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` as the file ``source`` is now (a hard link when the folders share a disk)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@job_kind(services.RENORMALISE_KIND, _l("Renormalisation of a harvest"), check=check_renormalise_params,
          start_permission="workbench.view")
def renormalise_harvest(context: JobContext) -> list[dict]:
    """``python -m selection renormalise <harvest folder>``; the rebuilt table and the manifest are
    linked into ``renormalised/`` (the harvest's own outputs are the same files)."""
    from selection.harvest.renormalise import renormalise

    harvest = _job_of(context.params["harvest_job_id"], {services.HARVEST_KIND},
                      _("The harvest to renormalise no longer exists."))
    _ensure_theirs(context, harvest)
    folder = services.harvest_folder(harvest)
    context.progress(0, 2, _("steps"), message=_("Rebuilding works.parquet from the raw pages"))
    context.log(f"renormalise {folder}")
    try:
        manifest = renormalise(folder)
    except SelectionError as error:
        text = str(error)
        message = next((str(message) for key, message in _RENORMALISE_REFUSALS if key in text), None)
        raise ServiceError(message or _("The renormalisation stopped: %(reason)s", reason=text)) from None
    done = manifest["renormalised"][-1]
    context.log(f"{done['works']} works rebuilt from {done['raw_pages']} raw pages (works schema version "
                f"{done['works_schema_version']}); works.parquet {done['previous_works_sha256']} -> "
                f"{done['works_sha256']}")
    out = context.work_dir / RENORMALISED_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    for name in (services.WORKS_FILE, services.MANIFEST_FILE):
        _link_or_copy(folder / name, out / name)
    _finish(context, 2, _("steps"))
    return [{"label": name, "path": f"{RENORMALISED_FOLDER}/{name}"}
            for name in (services.WORKS_FILE, services.MANIFEST_FILE)]


# --- import_round ---------------------------------------------------------------------------------


def check_import_params(params: dict) -> dict:
    """A finished ranking and the round's name."""
    ranking = _job_of(params.get("ranking_job_id"), {services.RANK_KIND}, _("Choose a ranking to import."))
    if ranking.state != JobState.FINISHED:
        raise ServiceError(_("Only a finished ranking can be imported."), 409)
    name = params.get("name")
    name = clean_text(name if isinstance(name, str) else None, _("Round name"), max_length=120, required=True)
    return {"ranking_job_id": ranking.id, "name": name}


@job_kind(services.IMPORT_KIND, _l("Import of a ranking as a selection round"), check=check_import_params,
          start_permission="workbench.view", links=services.import_links)
def import_round(context: JobContext) -> list[dict]:
    """The panels' import of the ranking's folder; ``round.json`` names the round (and links it)."""
    ranking = _job_of(context.params["ranking_job_id"], {services.RANK_KIND},
                      _("The ranking to import no longer exists."))
    _ensure_theirs(context, ranking)
    user = context.user
    if context.user_id is not None and not user_can(user, "panels.rounds"):
        raise ServiceError(_("You may not import selection rounds."), 403)
    context.progress(0, 2, _("steps"), message=_("Importing the candidates"))
    with unit_of_work():  # committed now: the reports that follow need not wait for its write lock (SQLite)
        result = services.import_ranking(ranking, context.params["name"], user)
    selection_round = result.round
    url = public_url("panels.round_overview", round_id=selection_round.id)
    (context.work_dir / services.ROUND_FILE).write_text(json.dumps({
        "round_id": selection_round.id, "name": selection_round.name, "created": result.created,
        "candidates": selection_round.candidate_count, "url": url}, ensure_ascii=False, indent=2), encoding="utf-8")
    if result.created:
        context.log(f"round #{selection_round.id} {selection_round.name!r} imported: "
                    f"{selection_round.candidate_count} candidates: {url}")
    else:
        context.log(f"the candidates file was already imported as round #{selection_round.id} "
                    f"{selection_round.name!r}; nothing was changed: {url}")
    _finish(context, 2, _("steps"))
    return [{"label": services.ROUND_FILE, "path": services.ROUND_FILE}]
