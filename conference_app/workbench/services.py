"""The analyst's workbench: harvests, institution list refreshes, renormalisations, rankings and
imports as background jobs (the kinds are in ``jobs.py``), what their folders hold (the
harvest's manifest and institution list, a refreshed list, the ranking's outputs), the edited
institution lists a next harvest uses, the ranking settings checked by the selection library,
and the import of a ranking as a selection round.

A harvest job writes ``<job folder>/harvest`` (``manifest.json``, ``works.parquet``,
``state/institutions.csv``); a ranking job ``<job folder>/ranking`` (the output set of
``python -m selection rank``); a refresh ``<job folder>/institutions.csv``. The list of a
harvest or a refresh as edited here is ``<job folder>/institutions.edited.csv``; a harvest
(or a refresh keeping its hand-added rows) started with it gets a copy in
``INSTANCE_DIR/workbench/institution-lists/`` named by its SHA-256, which never changes, so a
resumed harvest reads the list it began with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from conference_app.audit.services import record, register_action_titles
from conference_app.core.db import lock
from conference_app.core.mail import public_url
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.core.timeutil import BEIJING, beijing_today
from conference_app.extensions import db
from conference_app.jobs import services as jobs
from conference_app.jobs.models import ACTIVE_STATES, Job, JobState
from conference_app.jobs.runner import work_dir
from conference_app.panels import services as panels
from conference_app.panels.models import JournalGroup, SelectionRound
from conference_app.workbench import compare
from selection.errors import SelectionError
from selection.schema import INDICATORS, short_id

HARVEST_KIND, RANK_KIND = "harvest", "rank"
INSTITUTIONS_KIND, RENORMALISE_KIND, IMPORT_KIND = "institutions", "renormalise", "import_round"
LIST_KINDS = (HARVEST_KIND, INSTITUTIONS_KIND)  # the jobs whose institution list a harvest can use
HARVEST_FOLDER, RANKING_FOLDER = "harvest", "ranking"
REFRESHED_LIST_FILE = "institutions.csv"
ROUND_FILE = "round.json"
MANIFEST_FILE = "manifest.json"
WORKS_FILE = "works.parquet"
USED_LIST = Path("state") / "institutions.csv"
SETTINGS_FILE = "settings.toml"
RECENT_JOBS = 20

SELECTION_COMMANDS = (
    ".venv/bin/python -m selection institutions --help",
    ".venv/bin/python -m selection harvest --help",
    ".venv/bin/python -m selection import-snapshot --help",
    ".venv/bin/python -m selection rank --help",
)

register_action_titles({
    "institution_list.row_added": _l("Institution added to a harvest's list"),
    "institution_list.row_removed": _l("Institution removed from a harvest's list"),
})

MISSING_REASON_TITLES = {
    "absent": _l("absent"),
    "empty": _l("empty"),
    "unparseable": _l("unparseable"),
    "subfield outside the mapping": _l("subfield outside the discipline mapping"),
    "none flagged, first author used": _l("no corresponding author flagged; the first author counts"),
}
MANIFEST_STATUS_TITLES = {
    "running": _l("running"),
    "interrupted": _l("interrupted: resume it to continue"),
    "failed": _l("failed"),
    "complete": _l("complete"),
}
FUNNEL_TITLES = {
    "harvested_records": _l("Records harvested"),
    "input": _l("Works after removing duplicates"),
    "article_or_review": _l("Articles and reviews"),
    "issn_journal": _l("In an ISSN journal"),
    "in_window": _l("In the window"),
    "not_retracted": _l("Not retracted"),
    "in_a_discipline": _l("In a discipline"),
    "author_rule": _l("With the Beijing authors the rule asks for"),
    "ranked_type": _l("Of a ranked type"),
    "distinct_doi": _l("One per DOI"),
    "candidates": _l("Candidates"),
}


def workspace() -> dict:
    """The home section: the selection's disciplines (none when the mapping cannot be read) and its commands."""
    return {"disciplines": discipline_list(), "commands": SELECTION_COMMANDS}


def discipline_list() -> list:
    from selection.disciplines import load_disciplines

    try:
        return list(load_disciplines())
    except SelectionError:
        current_app.logger.exception("disciplines mapping could not be read")
        return []


def group_title(group: str) -> str:
    """A journal group's name in the reader's language (its code when unknown)."""
    return str(JournalGroup(group).title) if group in set(JournalGroup) else group


def discipline_choices() -> list[tuple[str, str]]:
    """(key, name in the reader's language) of every discipline."""
    return [(discipline.key, panels.discipline_title(discipline.key)) for discipline in discipline_list()]


# --- jobs and their folders ------------------------------------------------------------------


def job_folder(job: Job) -> Path:
    return work_dir(job.id)


def harvest_folder(job: Job) -> Path:
    return job_folder(job) / HARVEST_FOLDER


def ranking_folder(job: Job) -> Path:
    return job_folder(job) / RANKING_FOLDER


def recent_jobs(user) -> dict[str, list[Job]]:
    """The user's latest harvests, rankings and institution list refreshes, newest first."""
    return {"harvests": jobs.user_jobs(user, kinds=[HARVEST_KIND], limit=RECENT_JOBS),
            "rankings": jobs.user_jobs(user, kinds=[RANK_KIND], limit=RECENT_JOBS),
            "lists": jobs.user_jobs(user, kinds=[INSTITUTIONS_KIND], limit=RECENT_JOBS)}


def finished_harvests(user) -> list[Job]:
    """The user's finished harvests with a works table, newest first."""
    return [job for job in jobs.user_jobs(user, kinds=[HARVEST_KIND], limit=100)
            if job.state == JobState.FINISHED and (harvest_folder(job) / WORKS_FILE).is_file()]


def finished_rankings(user) -> list[Job]:
    """The user's finished rankings with their summary, newest first."""
    return [job for job in jobs.user_jobs(user, kinds=[RANK_KIND], limit=100)
            if job.state == JobState.FINISHED and (ranking_folder(job) / "summary.json").is_file()]


def jobs_of(kind: str, key: str, job: Job, active: bool = False, user=None) -> list[Job]:
    """The jobs of ``kind`` whose parameter ``key`` names ``job`` (only queued or running ones
    with ``active``, only ``user``'s when given), newest first."""
    query = select(Job).where(Job.kind == kind)
    if active:
        query = query.where(Job.state.in_(list(ACTIVE_STATES)))
    if user is not None:
        query = query.where(Job.user_id == user.id)
    return [other for other in db.session.scalars(query.order_by(Job.id.desc()))
            if (other.params or {}).get(key) == job.id]


def job_label(job: Job) -> str:
    """"Harvest #3 (2021–2025)", "Ranking #5 (of harvest #3)" for choices and headings."""
    params = job.params or {}
    if job.kind == HARVEST_KIND:
        return _("Harvest #%(id)d (%(first)s–%(last)s)", id=job.id, first=params.get("from_year"),
                 last=params.get("to_year"))
    if job.kind == INSTITUTIONS_KIND:
        return _("Institution list #%(id)d (from %(server)s)", id=job.id, server=params.get("base_url"))
    if job.kind == RENORMALISE_KIND:
        return _("Renormalisation #%(id)d (of harvest #%(harvest)s)", id=job.id,
                 harvest=params.get("harvest_job_id"))
    if job.kind == IMPORT_KIND:
        return _("Import #%(id)d (of ranking #%(ranking)s)", id=job.id, ranking=params.get("ranking_job_id"))
    return _("Ranking #%(id)d (of harvest #%(harvest)s)", id=job.id, harvest=params.get("harvest_job_id"))


# --- the harvest: its form's checks, its manifest ----------------------------------------------


def window_problem(from_year: int, to_year: int) -> str | None:
    """The harvest library's window rule (3 to 5 years, not in the future) in the reader's language."""
    from selection.harvest.normalize import MAX_WINDOW_YEARS, MIN_WINDOW_YEARS

    this_year = beijing_today().year
    if from_year > to_year:
        return _("The first year comes after the last one.")
    if to_year > this_year:
        return _("The last year lies in the future; give %(year)d or earlier.", year=this_year)
    if not MIN_WINDOW_YEARS <= to_year - from_year + 1 <= MAX_WINDOW_YEARS:
        return _("Give a window of %(low)d to %(high)d years.", low=MIN_WINDOW_YEARS, high=MAX_WINDOW_YEARS)
    return None


def harvest_defaults() -> dict:
    """The new-harvest form's starting values: the configured server (else OpenAlex) and the library's rate."""
    from selection.openalex.client import DEFAULT_BASE_URL, DEFAULT_RATE

    return {"base_url": current_app.config.get("OPENALEX_BASE_URL") or DEFAULT_BASE_URL, "rate": DEFAULT_RATE}


def start_harvest(values: dict, api_key: str | None, list_job: Job | None, user) -> Job:
    """Start a harvest job with the form's ``values``; ``api_key`` goes to its secrets only,
    ``list_job``'s institution list (as edited) is copied to a file of its own first."""
    params = {
        "from_year": values["from_year"],
        "to_year": values["to_year"],
        "disciplines": list(values.get("disciplines") or []) or None,
        "base_url": values["base_url"].strip().rstrip("/"),
        "mailto": (values.get("mailto") or "").strip() or None,
        "rate": float(values["rate"]),
    }
    if list_job is not None:
        params["institutions_path"] = str(frozen_list_copy(list_job))
        params["institutions_of_harvest" if list_job.kind == HARVEST_KIND else "institutions_of_refresh"] = list_job.id
    secrets = {"api_key": api_key} if api_key else None
    return jobs.start_job(HARVEST_KIND, params, user, secrets=secrets)


def read_json_file(path: Path) -> dict | None:
    """A JSON document, or None when the file is absent or not (yet) whole."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def read_manifest(job: Job) -> dict | None:
    return read_json_file(harvest_folder(job) / MANIFEST_FILE)


@dataclass(frozen=True)
class MissingField:
    field: str
    reason: str
    count: int


def missing_fields(manifest: dict) -> list[MissingField]:
    """``counts.missing_fields`` ("abstract: absent": 251) as rows, most frequent first."""
    rows = []
    for key, count in ((manifest.get("counts") or {}).get("missing_fields") or {}).items():
        field, _sep, reason = key.partition(": ")
        rows.append(MissingField(field, str(MISSING_REASON_TITLES.get(reason, reason)), int(count)))
    return sorted(rows, key=lambda row: (-row.count, row.field))


def harvest_funnel(manifest: dict | None, summary: dict) -> list[tuple[str, int]]:
    """From the records harvested to the candidates: the manifest's count, then the ranking's funnel."""
    steps = []
    harvested = ((manifest or {}).get("counts") or {}).get("harvested_records")
    if harvested is not None:
        steps.append(("harvested_records", int(harvested)))
    steps.extend((step, count) for step, count in compare.ranking_funnel(summary).items() if count is not None)
    return steps


def funnel_title(step: str) -> str:
    return str(FUNNEL_TITLES.get(step, step))


# --- institution lists ------------------------------------------------------------------------


EDITED_LIST_FILE = "institutions.edited.csv"


def edited_list_path(job: Job) -> Path:
    return job_folder(job) / EDITED_LIST_FILE


@dataclass(frozen=True)
class InstitutionListView:
    entries: list  # selection.institutions.InstitutionEntry, sorted by id
    edited: bool  # changed in the workbench since the harvest used it
    record: dict  # the manifest's record of the list the harvest used ({} before it is known)

    @property
    def manual(self) -> int:
        return sum(entry.reason == "manual" for entry in self.entries)

    @property
    def origin(self) -> str:
        """Where the list the harvest used came from, in the reader's language."""
        origin = str(self.record.get("list") or "")
        if origin.startswith("built from "):
            return _("built from %(server)s", server=origin.removeprefix("built from "))
        return _("the file %(path)s", path=origin) if origin else ""

    @property
    def date(self) -> dt.datetime | None:
        return utc_text(self.record.get("date"))


def institution_list(job: Job) -> InstitutionListView | None:
    """The list of a harvest (or a refresh) as edited in the workbench, else as the harvest
    used it (the refresh wrote it); None while there is none yet."""
    from selection.institutions import load_institution_list

    path = institution_list_file(job)
    if path is None:
        return None
    try:
        entries = load_institution_list(path)
    except SelectionError:
        current_app.logger.exception("institution list %s could not be read", path)
        return None
    if job.kind == INSTITUTIONS_KIND:
        record = {"list": f"built from {(job.params or {}).get('base_url')}",
                  "date": job.finished_at.isoformat() if job.finished_at else None}
    else:
        record = (read_manifest(job) or {}).get("institutions") or {}
    return InstitutionListView(list(entries.values()), path == edited_list_path(job), record)


def institution_list_file(job: Job) -> Path | None:
    """The file of the job's list as the page shows it (edited, else as the harvest used it or
    the finished refresh wrote it)."""
    if job.kind == INSTITUTIONS_KIND:
        if job.state != JobState.FINISHED:
            return None
        paths = (edited_list_path(job), job_folder(job) / REFRESHED_LIST_FILE)
    else:
        paths = (edited_list_path(job), harvest_folder(job) / USED_LIST)
    return next((path for path in paths if path.is_file()), None)


def list_jobs(user) -> list[Job]:
    """The user's harvests and refreshes whose institution list a new harvest can use, newest first."""
    return [job for job in jobs.user_jobs(user, kinds=list(LIST_KINDS), limit=100)
            if institution_list_file(job) is not None]


def list_choice_label(job: Job) -> str:
    """How a list job is offered in the new-harvest and refresh forms."""
    if job.kind == HARVEST_KIND:
        return _("The list of %(harvest)s", harvest=job_label(job))
    date = job.finished_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if job.finished_at else ""
    return _("Refreshed list #%(id)d (%(server)s, %(date)s)", id=job.id, server=(job.params or {}).get("base_url"),
             date=date)


_INSTITUTION_ID = re.compile(r"^I\d{1,18}$")


def _save_list(job: Job, entries: dict) -> None:
    from selection.institutions import write_institution_list

    write_institution_list(entries, edited_list_path(job))


def _entries(job: Job) -> dict:
    """The harvest's list to edit, taken under a lock so that two edits never lose one another."""
    lock(f"institution-list-{job.id}")
    listing = institution_list(job)
    if listing is None and job.kind == INSTITUTIONS_KIND:
        raise ServiceError(_("This refresh has not finished: its list is written when it does."), 409)
    if listing is None:
        raise ServiceError(_("This harvest has no institution list yet: it writes one when it starts."), 409)
    return {entry.institution_id: entry for entry in listing.entries}


def add_institution(job: Job, institution_id: str, display_name: str, actor):
    """Add a hand-added (``manual``) row to the harvest's list and save the edited list."""
    from selection.institutions import BEIJING_CITY, InstitutionEntry

    typed = clean_text(institution_id, _("OpenAlex institution id"), max_length=60, required=True)
    short = short_id(typed)
    if not _INSTITUTION_ID.match(short or ""):
        raise ServiceError(_("%(id)s is not an OpenAlex institution id like I99065089.", id=typed))
    name = clean_text(display_name, _("Institution name"), max_length=200, required=True)
    entries = _entries(job)
    if short in entries:
        raise ServiceError(_("%(id)s is already on the list.", id=short), 409)
    note = _("Added in the workbench by %(name)s on %(date)s", name=actor.name, date=beijing_today().isoformat())
    entries[short] = InstitutionEntry(short, name, BEIJING_CITY, "manual", note)
    _save_list(job, entries)
    record("institution_list.row_added", job, actor=actor, details={"institution_id": short, "display_name": name})
    return entries[short]


def remove_institution(job: Job, institution_id: str, actor) -> None:
    entries = _entries(job)
    entry = entries.pop(institution_id, None)
    if entry is None:
        raise ServiceError(_("%(id)s is not on the list.", id=institution_id), 404)
    if not entries:
        raise ServiceError(_("The list needs at least one institution."), 409)
    _save_list(job, entries)
    record("institution_list.row_removed", job, actor=actor,
           details={"institution_id": entry.institution_id, "display_name": entry.display_name})


def frozen_list_copy(job: Job) -> Path:
    """The harvest's list as it is now, in a file named by its SHA-256 (written once, never changed)."""
    from selection.files import write_atomic

    source = institution_list_file(job)
    if source is None:
        raise ServiceError(_("%(job)s has no institution list.", job=job_label(job)), 409)
    data = source.read_bytes()
    folder = Path(current_app.config["INSTANCE_DIR"]) / "workbench" / "institution-lists"
    target = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.csv"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
    return target


def start_institutions_refresh(values: dict, api_key: str | None, list_job: Job | None, user) -> Job:
    """Start a refresh of the Beijing institution list from the server of ``values``, keeping the
    hand-added rows of ``list_job``'s list (else of the packaged list); ``api_key`` goes to its
    secrets only."""
    params = {"base_url": values["base_url"].strip().rstrip("/"), "mailto": (values.get("mailto") or "").strip() or None,
              "rate": float(values["rate"]), "current_list_job_id": list_job.id if list_job is not None else None}
    return jobs.start_job(INSTITUTIONS_KIND, params, user, secrets={"api_key": api_key} if api_key else None)


# --- renormalising a harvest --------------------------------------------------------------------


def start_renormalise(harvest: Job, user) -> Job:
    """Start rebuilding a finished harvest's works.parquet from its raw pages (checked by the kind)."""
    return jobs.start_job(RENORMALISE_KIND, {"harvest_job_id": harvest.id}, user)


def renormalisations(harvest: Job, user) -> list[Job]:
    """The user's renormalisations of the harvest, newest first."""
    return jobs_of(RENORMALISE_KIND, "harvest_job_id", harvest, user=user)


# --- ranking settings -------------------------------------------------------------------------


def default_rank_values() -> dict:
    """The packaged ranking defaults, in the shape of the rank form."""
    from selection.ranking.settings import load_rank_settings

    settings = load_rank_settings()
    return {"weights": dict(settings.weights), "per_group": settings.per_group,
            "topic_cap_share": settings.topic_cap_share, "review_seat_share": settings.review_seat_share,
            "eligibility_top_share": settings.eligibility_top_share, "author_rule": settings.author_rule}


# Section of each value in ranking_defaults.toml.
_SETTINGS_SECTIONS = {
    "per_group": "selection", "topic_cap_share": "selection", "review_seat_share": "selection",
    "eligibility_top_share": "selection", "author_rule": "universe",
}


def rank_settings_toml(values: dict) -> str:
    """The settings file of a ranking: ``values`` (weights, per_group, the shares, author_rule)
    over the packaged defaults."""
    sections: dict[str, list[str]] = {}
    for key, section in _SETTINGS_SECTIONS.items():
        if key in values:
            sections.setdefault(section, []).append(f"{key} = {json.dumps(values[key])}")
    sections["weights"] = [f"{name} = {json.dumps(float(values['weights'][name]))}"
                           for name in INDICATORS if name in values.get("weights", {})]
    return "".join(f"[{section}]\n" + "".join(f"{line}\n" for line in lines) + "\n"
                   for section, lines in sections.items())


def load_rank_settings_file(path: Path):
    """``selection.ranking.settings.load_rank_settings`` of a settings file."""
    from selection.ranking.settings import load_rank_settings

    return load_rank_settings(path)


# What the library's check says -> the form field and the reader's message.
_SETTINGS_REFUSALS = (
    ("weights sum to 0", "weight_influence", _l("Give at least one indicator a weight above 0.")),
    ("weights must be >= 0", "weight_influence", _l("Weights must be 0 or more.")),
    ("per_group", "per_group", _l("The quota per list must be between 200 and 500.")),
    ("topic_cap_share", "topic_cap_share", _l("The topic cap must be above 0 and at most 1.")),
    ("review_seat_share", "review_seat_share", _l("The review seats must be above 0 and at most 1.")),
    ("eligibility_top_share", "eligibility_top_share", _l("The eligibility gate must be above 0 and at most 1.")),
    ("author_rule", "author_rule", _l("Choose one of the author rules offered.")),
)


def settings_refusal(error: SelectionError) -> tuple[str | None, str]:
    """(form field or None, message in the reader's language) for the library's refusal."""
    text = str(error)
    for key, field, message in _SETTINGS_REFUSALS:
        if key in text:
            return field, str(message)
    return None, _("The selection library refused these settings: %(reason)s", reason=text)


def rank_settings_problem(values: dict) -> tuple[str | None, str] | None:
    """None when the selection library accepts the settings, else (field, message)."""
    with tempfile.TemporaryDirectory(prefix="rank-settings-") as folder:
        path = Path(folder) / SETTINGS_FILE
        path.write_text(rank_settings_toml(values), encoding="utf-8")
        try:
            load_rank_settings_file(path)
        except SelectionError as error:
            return settings_refusal(error)
    return None


def start_ranking(harvest: Job, values: dict, user) -> Job:
    """Start a ranking of a finished harvest with the settings ``values`` (checked by the kind)."""
    return jobs.start_job(RANK_KIND, {"harvest_job_id": harvest.id, "settings": values}, user)


def source_harvest(ranking: Job) -> Job | None:
    """The harvest a ranking ranked, while it exists."""
    harvest_id = (ranking.params or {}).get("harvest_job_id")
    harvest = db.session.get(Job, harvest_id) if isinstance(harvest_id, int) else None
    return harvest if harvest is not None and harvest.kind == HARVEST_KIND else None


@dataclass(frozen=True)
class RankingView:
    summary: dict
    lists: list[dict]  # summary.json's lists with the discipline's and group's titles
    manifest: dict | None  # of the harvest ranked, when still there


def ranking_view(ranking: Job) -> RankingView | None:
    """What a finished ranking wrote, for its page; None before its summary exists."""
    summary = read_json_file(ranking_folder(ranking) / "summary.json")
    if summary is None:
        return None
    harvest = source_harvest(ranking)
    return RankingView(summary, [titled_list(entry) for entry in summary.get("lists") or []],
                       read_manifest(harvest) if harvest is not None else None)


def titled_list(entry: dict) -> dict:
    return {**entry, "discipline_title": panels.discipline_title(entry.get("discipline")),
            "group_title": group_title(entry.get("journal_group"))}


def import_source(ranking: Job) -> str:
    """The ``source_folder`` of the round a ranking was imported as."""
    return f"workbench-ranking-{ranking.id}"


def import_ranking(ranking: Job, name: str, actor) -> panels.ImportResult:
    """Import a finished ranking's folder as a selection round (the panels' own import; the
    ``import_round`` job calls it)."""
    if ranking.kind != RANK_KIND or ranking.state != JobState.FINISHED:
        raise ServiceError(_("Only a finished ranking can be imported."), 409)
    return panels.import_round(ranking_folder(ranking), name, actor, source_name=import_source(ranking))


def imported_round(ranking: Job) -> SelectionRound | None:
    """The round the ranking was imported as, while it exists."""
    return db.session.scalar(select(SelectionRound).filter_by(source_folder=import_source(ranking))
                             .order_by(SelectionRound.id.desc()).limit(1))


def start_import(ranking: Job, name: str, user) -> Job:
    """Start the import of a finished ranking as the round ``name``: refused to a user who may not
    import rounds, for a ranking imported already or being imported, or a name another round has."""
    if not user_can(user, "panels.rounds"):
        raise ServiceError(_("You may not import selection rounds."), 403)
    if ranking.kind != RANK_KIND or ranking.state != JobState.FINISHED:
        raise ServiceError(_("Only a finished ranking can be imported."), 409)
    name = clean_text(name, _("Round name"), max_length=120, required=True)
    lock(f"ranking-import-{ranking.id}")
    existing = imported_round(ranking)
    if existing is not None:
        raise ServiceError(_("This ranking was already imported as round %(name)s.", name=existing.name), 409)
    if jobs_of(IMPORT_KIND, "ranking_job_id", ranking, active=True):
        raise ServiceError(_("This ranking is being imported already: wait for its job to finish."), 409)
    if db.session.scalar(select(SelectionRound.id).filter_by(name=name)) is not None:
        raise ServiceError(_("A round named %(name)s already exists with another candidates file.", name=name), 409)
    return jobs.start_job(IMPORT_KIND, {"ranking_job_id": ranking.id, "name": name}, user)


def import_jobs(ranking: Job, user) -> list[Job]:
    """The user's imports of the ranking, newest first."""
    return jobs_of(IMPORT_KIND, "ranking_job_id", ranking, user=user)


def import_links(job: Job) -> list[dict]:
    """The round a finished import made, as the jobs page links it."""
    selection_round = round_of_import(job)
    if selection_round is None:
        return []
    return [{"label": _("Selection round %(name)s", name=selection_round.name),
             "url": url_for("panels.round_overview", round_id=selection_round.id) if has_request_context()
             else public_url("panels.round_overview", round_id=selection_round.id)}]


def round_of_import(job: Job) -> SelectionRound | None:
    """The round a finished import created or found (named in its ``round.json``), while it exists."""
    document = read_json_file(job_folder(job) / ROUND_FILE) if job.state == JobState.FINISHED else None
    round_id = (document or {}).get("round_id")
    return db.session.get(SelectionRound, round_id) if isinstance(round_id, int) else None


@dataclass(frozen=True)
class RankingPair:
    """Two finished rankings compared, with the numbers of the comparison's charts."""

    comparison: compare.Comparison
    histograms: tuple[list[int], list[int]]
    topics: list[tuple[str, str, float, float]]


def compare_rankings(first: Job, second: Job) -> RankingPair:
    """Ranking ``second`` against ``first``, read from their folders (checked as an import checks them)."""
    from selection.schema import read_candidates

    try:
        a, b = read_candidates(ranking_folder(first)), read_candidates(ranking_folder(second))
    except SelectionError as error:
        raise ServiceError(_("A ranking's output cannot be read (%(reason)s).", reason=str(error)), 409) from None
    return RankingPair(compare.compare(a.table, a.summary, b.table, b.summary),
                       (compare.score_histogram(a.table), compare.score_histogram(b.table)),
                       compare.topic_shares(a.table, b.table))


def default_round_name(ranking: Job) -> str:
    return _("Selection of %(date)s (ranking #%(id)d)", date=beijing_today().isoformat(), id=ranking.id)


def utc_text(value: str | None) -> dt.datetime | None:
    """A manifest's ISO time as an aware datetime (None when absent or unreadable)."""
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
