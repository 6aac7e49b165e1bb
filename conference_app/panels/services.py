"""Selection rounds: importing a ranking's output once, reading its lists and candidates,
and saying why a candidate has its score.

``import_round(folder, name, actor)`` is what the command line and the upload page call.
The SHA-256 of candidates.parquet is the identity of an import: the same file again returns
the round it made and writes nothing; another file under a taken name is refused (409).
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import selectinload, undefer
from werkzeug.datastructures import FileStorage

from conference_app.accounts.models import User
from conference_app.audit.services import (
    record,
    record_changes,
    register_action_titles,
    register_field_titles,
    register_object_type_titles,
    snapshot,
)
from conference_app.core import uploads
from conference_app.core.db import contains_text, lock, utcnow
from conference_app.core.excel import Column
from conference_app.core.permissions import Role, user_can
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.extensions import db
from conference_app.panels.models import (
    DOSSIER_FIELDS,
    Baseline,
    Candidate,
    ConflictKind,
    ExpertProfile,
    JournalGroup,
    Panel,
    PanelConflict,
    PanelMember,
    PanelStatus,
    SelectionRound,
    Stability,
    StratumLevel,
)
from conference_app.panels.workflow import PANEL
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.panel.conflicts import find_conflicts
from selection.panel.experts import Expert, short_openalex_id
from selection.ranking.explain import IndicatorPart, ScoreExplanation, explain
from selection.schema import CANDIDATES_FILE, CHART_FILES, INDICATORS, SUMMARY_FILE, read_candidates

register_object_type_titles({"SelectionRound": _l("Selection round")})
register_action_titles({"selection_round.imported": _l("Selection round imported")})

CHARTS_CATEGORY = "selection-rounds"
UPLOAD_MAX_BYTES = 200 * 1024 * 1024  # a zip of a ranking's output, and what it unpacks to

INDICATOR_TITLES = {
    "influence": _l("International influence"),
    "hot": _l("Hotness"),
    "frontier": _l("Frontier"),
    "originality": _l("Originality"),
}
CHART_TITLES = {
    "score_distributions.png": _l("Score distributions"),
    "topic_shares.png": _l("Topic shares"),
    "indicator_correlations.png": _l("Indicator correlations"),
}
# What SelectionError says (selection.schema.read_candidates) -> what the reader is told.
_REFUSALS = (
    ("does not describe", _l("summary.json does not belong to this candidates.parquet (its SHA-256 differs): "
                             "the files come from different runs or were changed.")),
    ("schema version", _l("candidates.parquet has another schema version than this platform reads: "
                          "rank the works again with the current selection library.")),
    ("does not have the candidates columns", _l("candidates.parquet does not have the candidates columns: "
                                                "rank the works again with the current selection library.")),
    ("is not a Parquet file", _l("candidates.parquet is not a Parquet file.")),
    ("is not JSON", _l("summary.json is not a JSON file.")),
    ("lacks the chart", _l("The ranking output lacks its charts (score_distributions.png, topic_shares.png, "
                           "indicator_correlations.png).")),
    ("summary.json not found", _l("The ranking output lacks summary.json.")),
    ("not found", _l("The ranking output lacks candidates.parquet.")),
)


@dataclass(frozen=True)
class ImportResult:
    round: SelectionRound
    created: bool


def _refusal(error: SelectionError) -> ServiceError:
    text = str(error)
    message = next((message for key, message in _REFUSALS if key in text), None)
    if message is None:
        return ServiceError(_("This is not a ranking output that can be imported (%(reason)s).", reason=text))
    return ServiceError(message)


def import_round(folder: str | Path, name: str | None, actor=None, source_name: str | None = None) -> ImportResult:
    """Import the output folder of ``python -m selection rank`` as the round ``name``."""
    name = clean_text(name, _("Round name"), max_length=120, required=True)
    try:
        candidate_set = read_candidates(folder)
    except SelectionError as error:
        raise _refusal(error) from None
    lock("selection-round-import")
    existing = db.session.scalar(select(SelectionRound).filter_by(candidates_sha256=candidate_set.sha256))
    if existing is not None:
        return ImportResult(existing, False)
    if db.session.scalar(select(SelectionRound.id).filter_by(name=name)) is not None:
        raise ServiceError(_("A round named %(name)s already exists with another candidates file.", name=name), 409)

    rows = candidate_set.table.to_pylist()
    summary = candidate_set.summary
    selection_round = SelectionRound(
        name=name,
        created_by_id=getattr(actor, "id", None),
        source_folder=(source_name or Path(folder).resolve().name)[:255],
        candidates_sha256=candidate_set.sha256,
        candidate_count=len(rows),
        summary=summary,
        settings=summary.get("settings") or {},
        charts_dir="",
    )
    db.session.add(selection_round)
    flush({"name": _("A round named %(name)s already exists with another candidates file.", name=name),
           "candidates_sha256": _("This candidates file has already been imported.")})
    selection_round.charts_dir = _copy_charts(selection_round.id, candidate_set.charts)
    if rows:
        db.session.execute(insert(Candidate), [_candidate_values(selection_round.id, row) for row in rows])
    lists = summary.get("lists") or []
    record("selection_round.imported", selection_round, actor=actor, details={
        "candidates": len(rows),
        "lists": len(lists),
        "shortfalls": len(summary.get("shortfalls") or []),
        "disciplines": len({entry.get("discipline") for entry in lists}),
        "candidates_sha256": candidate_set.sha256,
        "source": selection_round.source_folder,
    })
    flush()
    return ImportResult(selection_round, True)


def _candidate_values(round_id: int, row: dict) -> dict:
    return {
        "round_id": round_id,
        "work_id": row["work_id"],
        "discipline": row["discipline"],
        "journal_group": JournalGroup(row["journal_group"]),
        "rank": row["rank"],
        "score": row["score"],
        "stratum_works": row["stratum_works"],
        "score_parts": plain_json(row["score_parts"] or []),
        "over_topic_cap": bool(row["over_topic_cap"]),
        "cluster": row["cluster"],
        "cluster_terms": row["cluster_terms"],
        "cluster_rank": row["cluster_rank"],
        "topic_id": row["topic_id"],
        "topic_rank": row["topic_rank"],
        "subfield_id": row["subfield_id"],
        "publication_year": row["publication_year"],
        "work_type": row["type"],
        "doi": row["doi"],
        "title": row["title"],
        "source_name": row["source_name"],
        "issn_l": row["issn_l"],
        "beijing_first": bool(row["beijing_first"]),
        "beijing_corresponding": bool(row["beijing_corresponding"]),
        "authorships": plain_json(row["authorships"] or []),
        "stability": Stability(row["stability"]) if row["stability"] else None,
        "rank_interval_low": row["rank_interval_low"],
        "rank_interval_high": row["rank_interval_high"],
        "author_rule": row["author_rule"],
        "dossier": {name: plain_json(row.get(name)) for name in DOSSIER_FIELDS},
    }


def plain_json(value):
    """``value`` (from ``pyarrow``'s ``to_pylist``) as plain JSON: lists, dicts, numbers, text,
    and None for a missing number (NaN and infinities, which PostgreSQL's JSON cannot hold)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    return value


def _copy_charts(round_id: int, charts: dict[str, Path]) -> str:
    """The round's charts under UPLOAD_DIR/selection-rounds/<id>/, removed if the unit of work rolls back."""
    relative = PurePosixPath(CHARTS_CATEGORY, str(round_id))
    target_dir = uploads.upload_root() / relative
    target_dir.mkdir(parents=True, exist_ok=True)
    written = db.session.info.setdefault(uploads.WRITTEN_KEY, [])
    for chart_name, path in charts.items():
        target = target_dir / chart_name
        shutil.copyfile(path, target)
        written.append(target)
    return str(relative)


def chart_path(selection_round: SelectionRound, chart_name: str) -> str:
    """The stored path (relative to UPLOAD_DIR) of one of the round's charts."""
    return str(PurePosixPath(selection_round.charts_dir, chart_name))


def import_upload(file: FileStorage | None, name: str | None, actor=None) -> ImportResult:
    """Import a zip of a ranking's output folder (candidates.parquet, summary.json, the charts;
    at its top or in one folder) as the round ``name``."""
    if file is None or not file.filename:
        raise ServiceError(_("Please choose a file."))
    limit = min(UPLOAD_MAX_BYTES, current_app.config["MAX_CONTENT_LENGTH"] or UPLOAD_MAX_BYTES)
    with tempfile.TemporaryDirectory(prefix="selection-round-") as scratch:
        archive_path = Path(scratch) / "upload.zip"
        with archive_path.open("wb") as archive_file:
            shutil.copyfileobj(file.stream, archive_file)
        if archive_path.stat().st_size > limit:
            raise ServiceError(_("The file is larger than %(size)s MB.", size=round(limit / 1024 / 1024, 1)), 413)
        if not zipfile.is_zipfile(archive_path):
            raise ServiceError(_("Please upload the ranking output as a .zip file."))
        folder = Path(scratch) / "output"
        folder.mkdir()
        wanted = {CANDIDATES_FILE, SUMMARY_FILE, *CHART_FILES}
        with zipfile.ZipFile(archive_path) as archive:
            members = [info for info in archive.infolist()
                       if not info.is_dir() and PurePosixPath(info.filename).name in wanted]
            if sum(info.file_size for info in members) > UPLOAD_MAX_BYTES:
                raise ServiceError(_("The file is larger than %(size)s MB.", size=UPLOAD_MAX_BYTES // 1024 // 1024), 413)
            names = [PurePosixPath(info.filename).name for info in members]
            if len(names) != len(set(names)):
                raise ServiceError(_("The zip file holds more than one ranking output."))
            for info, member_name in zip(members, names):
                with archive.open(info) as source, (folder / member_name).open("wb") as target:
                    shutil.copyfileobj(source, target)
        original = PurePosixPath((file.filename or "").replace("\\", "/")).name
        return import_round(folder, name, actor, source_name="".join(ch for ch in original if ch.isprintable()))


# --- reading -------------------------------------------------------------------------------


def rounds_query():
    return select(SelectionRound).order_by(SelectionRound.created_at.desc(), SelectionRound.id.desc())


@lru_cache(maxsize=1)
def _disciplines():
    return load_disciplines()


def discipline_title(key: str) -> str:
    """The discipline's name in the reader's language, or its key when unknown."""
    disciplines = _disciplines()
    if key not in disciplines:
        return key
    discipline = disciplines.get(key)
    locale = get_locale()
    return discipline.name_zh if locale is None or locale.language == "zh" else discipline.name_en


def round_lists(selection_round: SelectionRound) -> list[dict]:
    """Each list of the round (summary.json) with its imported candidate count and names."""
    counts = dict(
        ((discipline, str(group)), count)
        for discipline, group, count in db.session.execute(
            select(Candidate.discipline, Candidate.journal_group, func.count())
            .where(Candidate.round_id == selection_round.id)
            .group_by(Candidate.discipline, Candidate.journal_group)
        )
    )
    lists = []
    for entry in selection_round.lists:
        discipline, group = entry.get("discipline"), entry.get("journal_group")
        lists.append({
            **entry,
            "discipline_title": discipline_title(discipline),
            "group_title": JournalGroup(group).title if group in JournalGroup.titles() else group,
            "imported": counts.get((discipline, group), 0),
        })
    return lists


def find_list(selection_round: SelectionRound, discipline: str, group: str) -> dict | None:
    return next((entry for entry in round_lists(selection_round)
                 if entry["discipline"] == discipline and entry["journal_group"] == group), None)


def candidates_query(selection_round: SelectionRound, discipline: str, group: str, *, search: str | None = None,
                     stability: str | None = None, beijing: str | None = None, over_cap: bool | None = None):
    """The candidates of one list, best first; filters are optional."""
    query = select(Candidate).where(
        Candidate.round_id == selection_round.id, Candidate.discipline == discipline,
        Candidate.journal_group == group,
    )
    if search:
        query = query.where(or_(contains_text(Candidate.title, search), contains_text(Candidate.work_id, search),
                                contains_text(Candidate.doi, search), contains_text(Candidate.source_name, search),
                                contains_text(Candidate.cluster_terms, search)))
    if stability:
        query = query.where(Candidate.stability == stability)
    if beijing == "first":
        query = query.where(Candidate.beijing_first.is_(True))
    elif beijing == "corresponding":
        query = query.where(Candidate.beijing_corresponding.is_(True))
    if over_cap is not None:
        query = query.where(Candidate.over_topic_cap.is_(over_cap))
    return query.options(undefer(Candidate.dossier)).order_by(Candidate.rank, Candidate.id)


# --- the explanation -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartView:
    """One indicator's share of a score, with its name, what its value compares with and its
    sentence in the reader's language."""

    part: IndicatorPart
    title: str
    baseline_title: str | None
    sentence: str


def explanation(candidate: Candidate) -> ScoreExplanation:
    dossier = candidate.dossier or {}
    return explain({
        # a round imported before schema version 3 has parts without a baseline
        "score_parts": [{"baseline": None, **part} for part in candidate.score_parts],
        "score": candidate.score,
        "journal_group": str(candidate.journal_group),
        "stratum_works": candidate.stratum_works,
        "over_topic_cap": candidate.over_topic_cap,
        "admission": dossier.get("admission"),
        "stratum_level": dossier.get("stratum_level"),
    })


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _level_title(score: ScoreExplanation) -> str:
    level = StratumLevel(score.stratum_level) if score.stratum_level in StratumLevel.titles() else StratumLevel.SUBFIELD
    return level.title


def part_views(score: ScoreExplanation) -> list[PartView]:
    """Each indicator's part in INDICATORS order: its value against its baseline (world,
    national, Beijing stratum or harvest), then its percentile among the Beijing works of the
    stratum."""
    views = []
    order = {code: position for position, code in enumerate(INDICATORS)}
    level = _level_title(score)
    for part in sorted(score.parts, key=lambda item: order.get(item.indicator, len(order))):
        title = str(INDICATOR_TITLES.get(part.indicator, part.indicator))
        baseline = Baseline(part.baseline).title if part.baseline in Baseline.titles() else None
        if part.has_value:
            compared = _(" (its value compares with %(baseline)s)", baseline=baseline) if baseline else ""
            sentence = _(
                "%(indicator)s: weight %(weight)s, value %(value)s%(compared)s; percentile %(percentile)s among "
                "the %(valued)d Beijing works of its stratum (%(level)s) with a value (top %(top)s among Beijing "
                "papers, not in the world), contribution %(weight)s × %(percentile)s = %(contribution)s.",
                indicator=title, weight=_percent(part.weight), value=_number(part.value), compared=compared,
                percentile=_percent(part.percentile), valued=part.valued_works, level=level,
                top=_percent(part.top_share), contribution=_number(part.contribution),
            )
        else:
            sentence = _("%(indicator)s: weight %(weight)s, no data for this work, so it contributes nothing "
                         "(percentile 0).", indicator=title, weight=_percent(part.weight))
        views.append(PartView(part, title, baseline, sentence))
    return views


def score_sentence(score: ScoreExplanation, candidate: Candidate) -> str:
    track = candidate.track
    return _(
        "Score %(score)s is the sum of weight × percentile over the four indicators; the percentiles are taken "
        "among the %(works)d ranked Beijing works of the same %(level)s, journal group (%(group)s) and kind "
        "(%(track)s): a standing among Beijing papers, not a world rank. Rank %(rank)d in its list.",
        score=_number(score.score), works=score.stratum_works, level=_level_title(score),
        group=candidate.journal_group.title, track=track.title if track else candidate.work_type or "—",
        rank=candidate.rank,
    )


@dataclass(frozen=True)
class AuthorView:
    name: str
    orcid: str | None
    author_id: str | None
    position: str | None
    is_corresponding: bool
    institution_ids: list[str]
    institution_names: list[str]
    is_beijing: bool
    beijing_reasons: list[str]

    @property
    def institutions(self) -> list[tuple[str | None, str | None]]:
        """(name, id) of each institution, aligned; a name may be missing, an id too."""
        names, ids = self.institution_names, self.institution_ids
        return [(names[i] if i < len(names) else None, ids[i] if i < len(ids) else None)
                for i in range(max(len(names), len(ids)))]


def author_views(candidate: Candidate) -> list[AuthorView]:
    """The work's authors in order, each with their institutions. A Beijing author is one the
    harvest counted as Beijing (``is_beijing``, schema version 3), marked also as the Beijing
    first or corresponding author; a round imported before that marks by the row's
    ``beijing_first`` and ``beijing_corresponding`` flags (which flag the work, not each author)."""
    views = []
    for authorship in candidate.authorships or []:
        first = authorship.get("position") == "first"
        corresponding = bool(authorship.get("is_corresponding"))
        if "is_beijing" in authorship:
            is_beijing = bool(authorship.get("is_beijing"))
            is_beijing_first, is_beijing_corresponding = is_beijing and first, is_beijing and corresponding
        else:
            is_beijing_first = first and candidate.beijing_first
            is_beijing_corresponding = corresponding and candidate.beijing_corresponding
            is_beijing = is_beijing_first or is_beijing_corresponding
        reasons = []
        if is_beijing_first:
            reasons.append(_("Beijing first author"))
        if is_beijing_corresponding:
            reasons.append(_("Beijing corresponding author"))
        if is_beijing and not reasons:
            reasons.append(_("Beijing author"))
        views.append(AuthorView(
            name=authorship.get("name") or authorship.get("author_id") or "—",
            orcid=authorship.get("orcid"),
            author_id=authorship.get("author_id"),
            position=authorship.get("position"),
            is_corresponding=corresponding,
            institution_ids=list(authorship.get("institution_ids") or []),
            institution_names=list(authorship.get("institution_names") or []),
            is_beijing=is_beijing,
            beijing_reasons=reasons,
        ))
    return views


def _part_value(code: str, field: str):
    def value(candidate: Candidate):
        part = next((part for part in candidate.score_parts if part.get("indicator") == code), None)
        return None if part is None else part.get(field)
    return value


def _yes_no(value: bool | None) -> str | None:
    if value is None:
        return None
    return _("Yes") if value else _("No")


def _dossier_value(name: str):
    return lambda candidate: candidate.dossier.get(name)


def _dossier_flag(name: str):
    return lambda candidate: _yes_no(candidate.dossier.get(name))


EXPORT_COLUMNS = [
    Column(_l("Rank"), lambda c: c.rank, 8),
    Column(_l("Score"), lambda c: round(c.score, 6), 10),
    Column(_l("OpenAlex work"), lambda c: c.work_id, 16),
    Column(_l("Paper title"), lambda c: c.title, 60),
    Column(_l("Journal"), lambda c: c.source_name, 30),
    Column("ISSN-L", lambda c: c.issn_l, 12),
    Column(_l("Publication year"), lambda c: c.publication_year, 10),
    Column("DOI", lambda c: c.doi, 30),
    Column(_l("Admission"), lambda c: c.admission.title if c.admission else None, 18),
    Column(_l("World top 1%"), _dossier_flag("world_top_1pct"), 10),
    *[column for code in INDICATORS for column in (
        Column(INDICATOR_TITLES[code], _part_value(code, "value"), 14),
        Column(_l("%(indicator)s percentile", indicator=INDICATOR_TITLES[code]), _part_value(code, "percentile"), 14),
    )],
    Column(_l("Share of citing works with no author in China"), _dossier_value("citing_foreign_share"), 14),
    Column(_l("Journal tier"), _dossier_value("journal_tier"), 14),
    Column(_l("Journal warning"), _dossier_value("journal_warning"), 18),
    Column(_l("Stability"), lambda c: c.stability.title if c.stability else None, 10),
    Column(_l("Rank interval"), lambda c: f"{c.rank_interval_low}–{c.rank_interval_high}", 12),
    Column(_l("Research topic"), lambda c: c.topic_id, 12),
    Column(_l("Cluster terms"), lambda c: c.cluster_terms, 30),
    Column(_l("Beijing first author"), lambda c: _yes_no(c.beijing_first), 12),
    Column(_l("Beijing corresponding author"), lambda c: _yes_no(c.beijing_corresponding), 12),
    Column(_l("Beijing author share"), _dossier_value("beijing_author_share"), 12),
    Column(_l("Consortium"), _dossier_flag("consortium"), 10),
]


# --- expert profiles ---------------------------------------------------------------------------

register_object_type_titles({"ExpertProfile": _l("Expert profile"), "PanelMember": _l("Panel member"),
                             "PanelConflict": _l("Conflict of interest")})
register_action_titles({
    "expert_profile.created": _l("Expert profile created"),
    "expert_profile.updated": _l("Expert profile updated"),
    "panel.created": _l("Expert panel created"),
    "panel.member_added": _l("Panel member added"),
    "panel.member_removed": _l("Panel member removed"),
    "panel.chair_set": _l("Panel chair named"),
    "panel.conflicts_computed": _l("Conflicts computed"),
    "panel_conflict.overridden": _l("Conflict overridden"),
    "panel_conflict.declared": _l("Conflict declared"),
})
PROFILE_FIELDS = ("openalex_author_id", "orcid", "institution_ids", "disciplines")
register_field_titles("ExpertProfile", {
    "openalex_author_id": _l("OpenAlex author id"),
    "orcid": "ORCID",
    "institution_ids": _l("OpenAlex institution ids"),
    "disciplines": _l("Disciplines"),
})
register_field_titles("PanelConflict", {"overridden_by_id": _l("Overridden by"),
                                        "override_comment": _l("Reason for the override")})

_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;|，；、]+")
COMMENT_MAX_LENGTH = 2000


def profile_of(user: User) -> ExpertProfile | None:
    return db.session.scalar(select(ExpertProfile).filter_by(user_id=user.id))


def _require_expert(user: User) -> None:
    if user.role != Role.EXPERT:
        raise ServiceError(_("%(name)s is not an expert account.", name=user.name), 409)


def _openalex_id(value: str | None, kind: str, label: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return short_openalex_id(value, kind, label)
    except SelectionError:
        raise ServiceError(_("%(value)s is not an OpenAlex id of the form %(example)s.", value=value,
                             example={"A": "A5023888391", "I": "I99065089"}[kind])) from None


def _orcid(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    match = _ORCID.match(value)
    if not match:
        raise ServiceError(_("%(value)s is not an ORCID of the form 0000-0000-0000-000X.", value=value))
    return match.group(1).upper()


def parse_institution_ids(text: str | list | None) -> list[str]:
    """Short OpenAlex institution ids from text (separated by spaces, commas or ``|``) or a list."""
    parts = text if isinstance(text, list) else _SEPARATORS.split(text or "")
    ids = [_openalex_id(part, "I", _("OpenAlex institution ids")) for part in parts if part and part.strip()]
    return list(dict.fromkeys(ids))


def save_profile(user: User, values: dict, actor=None) -> ExpertProfile:
    """Create or change the expert profile of ``user`` (an expert account)."""
    _require_expert(user)
    disciplines = list(dict.fromkeys(values.get("disciplines") or []))
    unknown = [key for key in disciplines if key not in _disciplines()]
    if unknown:
        raise ServiceError(_("Unknown discipline: %(keys)s.", keys=", ".join(unknown)))
    cleaned = {
        "openalex_author_id": _openalex_id(values.get("openalex_author_id"), "A", _("OpenAlex author id")),
        "orcid": _orcid(values.get("orcid")),
        "institution_ids": parse_institution_ids(values.get("institution_ids")),
        "disciplines": disciplines,
    }
    profile = profile_of(user)
    if profile is None:
        profile = ExpertProfile(user_id=user.id, user=user, **cleaned)
        db.session.add(profile)
        flush({"user_id": _("This expert already has a profile.")})
        record("expert_profile.created", profile, actor=actor, details={"changes": {
            name: [None, value] for name, value in cleaned.items() if value}})
        return profile
    before = snapshot(profile, PROFILE_FIELDS)
    for name, value in cleaned.items():
        setattr(profile, name, value)
    record_changes("expert_profile.updated", profile, before, actor=actor)
    flush()
    return profile


# --- panels -----------------------------------------------------------------------------------


def panels_of_round(selection_round: SelectionRound) -> list[Panel]:
    return list(db.session.scalars(
        select(Panel).where(Panel.round_id == selection_round.id)
        .options(selectinload(Panel.members), selectinload(Panel.chair)).order_by(Panel.discipline)))


def round_disciplines(selection_round: SelectionRound) -> list[str]:
    """The disciplines of the round's lists, in their order."""
    return list(dict.fromkeys(entry.get("discipline") for entry in selection_round.lists if entry.get("discipline")))


def create_panel(selection_round: SelectionRound, discipline: str, name: str | None, actor=None) -> Panel:
    if discipline not in round_disciplines(selection_round):
        raise ServiceError(_("This round has no list of that discipline."))
    name = clean_text(name, _("Panel name"), max_length=120) or _("%(discipline)s panel",
                                                                  discipline=discipline_title(discipline))
    taken = _("This round already has a panel for %(discipline)s.", discipline=discipline_title(discipline))
    if db.session.scalar(select(Panel.id).filter_by(round_id=selection_round.id, discipline=discipline)):
        raise ServiceError(taken, 409)
    panel = Panel(round_id=selection_round.id, discipline=discipline, name=name, status=PanelStatus.FORMING)
    db.session.add(panel)
    flush({"round_id": taken})
    record("panel.created", panel, actor=actor, details={"round": selection_round.name, "discipline": discipline})
    return panel


def _while_forming(panel: Panel) -> None:
    lock(f"panels:{panel.id}")
    db.session.refresh(panel, ["status"])
    if panel.status != PanelStatus.FORMING:
        raise ServiceError(_("The members of a panel change only while it is forming."), 409)


def add_member(panel: Panel, user: User, actor=None) -> PanelMember:
    _while_forming(panel)
    _require_expert(user)
    if panel.has_member(user.id):
        raise ServiceError(_("%(name)s is already a member of this panel.", name=user.name), 409)
    member = PanelMember(panel=panel, user=user)
    db.session.add(member)
    flush({"panel_id": _("%(name)s is already a member of this panel.", name=user.name)})
    record("panel.member_added", panel, actor=actor, details={"member": user.name, "user_id": user.id})
    return member


def remove_member(panel: Panel, user: User, actor=None) -> None:
    _while_forming(panel)
    member = next((member for member in panel.members if member.user_id == user.id), None)
    if member is None:
        raise ServiceError(_("%(name)s is not a member of this panel.", name=user.name), 404)
    panel.members.remove(member)
    details = {"member": user.name, "user_id": user.id}
    if panel.chair_user_id == user.id:
        panel.chair_user_id = None
        details["was_chair"] = True
    record("panel.member_removed", panel, actor=actor, details=details)
    flush()


def set_chair(panel: Panel, user: User, actor=None) -> None:
    _while_forming(panel)
    if not panel.has_member(user.id):
        raise ServiceError(_("The chair must be a member of the panel."), 409)
    before = snapshot(panel, ("chair_user_id",))
    panel.chair_user_id = user.id
    record_changes("panel.chair_set", panel, before, actor=actor)
    flush()


def opening_refusal(panel: Panel) -> str | None:
    """Why the panel may not open yet, with its numbers; None when it may."""
    minimum = current_app.config["PANEL_MIN_EXPERTS"]
    count = db.session.scalar(select(func.count()).select_from(PanelMember).filter_by(panel_id=panel.id))
    if count < minimum:
        return _("The panel has only %(count)d experts; it needs at least %(minimum)d.", count=count,
                 minimum=minimum)
    chair_id = db.session.scalar(select(Panel.chair_user_id).where(Panel.id == panel.id))
    if chair_id is None or db.session.scalar(
            select(PanelMember.id).filter_by(panel_id=panel.id, user_id=chair_id)) is None:
        return _("The panel needs a chair among its members.")
    return None


def open_panel(panel: Panel, actor) -> None:
    PANEL.apply(panel, "open", actor=actor, details={"members": len(panel.members)})


# --- conflicts ---------------------------------------------------------------------------------


def panel_candidates(panel: Panel) -> list[Candidate]:
    return list(db.session.scalars(select(Candidate).where(
        Candidate.round_id == panel.round_id, Candidate.discipline == panel.discipline).order_by(Candidate.id)))


def compute_conflicts(panel: Panel, actor=None) -> list[PanelConflict]:
    """The conflicts of the members with the panel's candidates (``selection.panel.conflicts``),
    replacing the previous computation; declared conflicts stay, and an override of a conflict
    found again stays with it. No works tables are given: co-authorships are those among the
    candidates themselves."""
    import pandas as pd

    lock(f"panels:{panel.id}")
    profiles = {profile.user_id: profile for profile in db.session.scalars(
        select(ExpertProfile).where(ExpertProfile.user_id.in_([m.user_id for m in panel.members])))}
    experts = [
        Expert(expert_id=str(member.user_id), name=member.user.name,
               author_id=getattr(profiles.get(member.user_id), "openalex_author_id", None),
               institution_ids=tuple(getattr(profiles.get(member.user_id), "institution_ids", None) or ()))
        for member in panel.members
    ]
    candidates = panel_candidates(panel)
    by_work: dict[str, list[int]] = {}
    for candidate in candidates:
        by_work.setdefault(candidate.work_id, []).append(candidate.id)
    frame = pd.DataFrame({
        "work_id": [c.work_id for c in candidates],
        "publication_year": [c.publication_year for c in candidates],
        "authorships": [c.authorships or [] for c in candidates],
    })
    found = find_conflicts(frame, [], experts) if experts and candidates else []
    previous = db.session.scalars(select(PanelConflict).filter_by(panel_id=panel.id, declared_by_expert=False))
    overrides = {(c.user_id, c.candidate_id, str(c.kind)): (c.overridden_by_id, c.override_comment)
                 for c in previous if c.overridden_by_id is not None}
    db.session.execute(delete(PanelConflict).where(PanelConflict.panel_id == panel.id,
                                                   PanelConflict.declared_by_expert.is_(False)))
    declared = {(user_id, candidate_id, str(kind)) for user_id, candidate_id, kind in db.session.execute(
        select(PanelConflict.user_id, PanelConflict.candidate_id, PanelConflict.kind).filter_by(panel_id=panel.id))}
    rows = []
    for conflict in found:
        for candidate_id in by_work.get(conflict.work_id, ()):
            key = (int(conflict.expert_id), candidate_id, conflict.kind)
            if key in declared:
                continue
            overridden_by_id, comment = overrides.get(key, (None, None))
            rows.append({"panel_id": panel.id, "user_id": key[0], "candidate_id": candidate_id,
                         "kind": ConflictKind(conflict.kind), "detail": conflict.detail,
                         "declared_by_expert": False, "overridden_by_id": overridden_by_id,
                         "override_comment": comment})
    if rows:
        db.session.execute(insert(PanelConflict), rows)
    panel.conflicts_computed_at = utcnow()
    record("panel.conflicts_computed", panel, actor=actor, details={
        "conflicts": len(rows), "experts": len(experts), "candidates": len(candidates),
        "by_kind": {kind: sum(row["kind"] == kind for row in rows) for kind in ConflictKind.titles()},
        "kept_overrides": sum(row["overridden_by_id"] is not None for row in rows),
    })
    flush()
    return list(db.session.scalars(select(PanelConflict).filter_by(panel_id=panel.id)))


def panel_conflicts(panel: Panel) -> list[PanelConflict]:
    """The panel's conflicts with their expert, candidate and overrider, in a fixed number of queries."""
    return list(db.session.scalars(
        select(PanelConflict).where(PanelConflict.panel_id == panel.id)
        .options(selectinload(PanelConflict.user), selectinload(PanelConflict.candidate),
                 selectinload(PanelConflict.overridden_by))
        .order_by(PanelConflict.user_id, PanelConflict.candidate_id, PanelConflict.kind)))


def override_conflict(conflict: PanelConflict, comment: str | None, actor) -> None:
    """The chair (or staff) sets a computed conflict aside; the reason is required."""
    if not user_can(actor, "panels.chair", conflict.panel):
        raise ServiceError(_("You may not do this."), 403)
    comment = clean_text(comment, _("Reason for the override"), max_length=COMMENT_MAX_LENGTH)
    if not comment:
        raise ServiceError(_("Please give the reason for overriding this conflict."))
    if conflict.overridden_by_id is not None:
        raise ServiceError(_("This conflict is already overridden."), 409)
    if conflict.declared_by_expert:
        raise ServiceError(_("A conflict the expert declared is not set aside by others."), 409)
    before = snapshot(conflict, ("overridden_by_id", "override_comment"))
    conflict.overridden_by_id = actor.id
    conflict.override_comment = comment
    record_changes("panel_conflict.overridden", conflict, before, actor=actor, comment=comment)
    flush()


def declare_conflict(panel: Panel, work_id: str | None, reason: str | None, actor) -> PanelConflict:
    """A member declares a conflict of their own with one of the panel's candidates."""
    if not panel.has_member(getattr(actor, "id", None)):
        raise ServiceError(_("Only a member of the panel can declare a conflict."), 403)
    work = (work_id or "").strip().rsplit("/", 1)[-1].upper()
    reason = clean_text(reason, _("Reason"), max_length=COMMENT_MAX_LENGTH, required=True)
    candidate = db.session.scalar(select(Candidate).where(
        Candidate.round_id == panel.round_id, Candidate.discipline == panel.discipline, Candidate.work_id == work))
    if candidate is None:
        raise ServiceError(_("%(work)s is not a candidate of this panel.", work=work_id or "—"), 404)
    exists = _("You have already declared a conflict with %(work)s.", work=work)
    if db.session.scalar(select(PanelConflict.id).filter_by(panel_id=panel.id, user_id=actor.id,
                                                            candidate_id=candidate.id, kind=ConflictKind.DECLARED)):
        raise ServiceError(exists, 409)
    conflict = PanelConflict(panel=panel, user_id=actor.id, candidate=candidate, kind=ConflictKind.DECLARED,
                             detail=reason, declared_by_expert=True)
    db.session.add(conflict)
    flush({"panel_id": exists})
    record("panel_conflict.declared", conflict, actor=actor, comment=reason, details={"work_id": work})
    return conflict


def expert_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.EXPERT).order_by(User.name, User.id)))
