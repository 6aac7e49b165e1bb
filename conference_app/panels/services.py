"""Selection rounds: importing a ranking's output once, reading its lists and candidates,
and saying why a candidate has its score.

``import_round(folder, name, actor)`` is what the command line and the upload page call.
The SHA-256 of candidates.parquet is the identity of an import: the same file again returns
the round it made and writes nothing; another file under a taken name is refused (409).
"""

from __future__ import annotations

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
from sqlalchemy import func, insert, or_, select
from werkzeug.datastructures import FileStorage

from conference_app.audit.services import record, register_action_titles, register_object_type_titles
from conference_app.core import uploads
from conference_app.core.db import contains_text, lock
from conference_app.core.excel import Column
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text
from conference_app.extensions import db
from conference_app.panels.models import Candidate, JournalGroup, SelectionRound, Stability
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
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
        "score_parts": row["score_parts"] or [],
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
        "authorships": row["authorships"] or [],
        "stability": Stability(row["stability"]) if row["stability"] else None,
        "rank_interval_low": row["rank_interval_low"],
        "rank_interval_high": row["rank_interval_high"],
        "author_rule": row["author_rule"],
    }


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
    return query.order_by(Candidate.rank, Candidate.id)


# --- the explanation -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartView:
    """One indicator's share of a score, with its name and its sentence in the reader's language."""

    part: IndicatorPart
    title: str
    sentence: str


def explanation(candidate: Candidate) -> ScoreExplanation:
    return explain({
        "score_parts": candidate.score_parts,
        "score": candidate.score,
        "journal_group": str(candidate.journal_group),
        "stratum_works": candidate.stratum_works,
        "over_topic_cap": candidate.over_topic_cap,
    })


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def part_views(score: ScoreExplanation) -> list[PartView]:
    views = []
    order = {code: position for position, code in enumerate(INDICATORS)}
    for part in sorted(score.parts, key=lambda item: order.get(item.indicator, len(order))):
        title = str(INDICATOR_TITLES.get(part.indicator, part.indicator))
        if part.has_value:
            sentence = _(
                "%(indicator)s: weight %(weight)s, value %(value)s, percentile %(percentile)s among the "
                "%(valued)d works of its stratum with a value (top %(top)s), contribution %(weight)s × "
                "%(percentile)s = %(contribution)s.",
                indicator=title, weight=_percent(part.weight), value=_number(part.value),
                percentile=_percent(part.percentile), valued=part.valued_works, top=_percent(part.top_share),
                contribution=_number(part.contribution),
            )
        else:
            sentence = _("%(indicator)s: weight %(weight)s, no data for this work, so it contributes nothing "
                         "(percentile 0).", indicator=title, weight=_percent(part.weight))
        views.append(PartView(part, title, sentence))
    return views


def score_sentence(score: ScoreExplanation, candidate: Candidate) -> str:
    return _(
        "Score %(score)s is the sum of weight × percentile over the four indicators; the percentiles are taken "
        "among the %(works)d ranked works of the same subfield, publication year and journal group (%(group)s). "
        "Rank %(rank)d in its list.",
        score=_number(score.score), works=score.stratum_works, group=candidate.journal_group.title,
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
    beijing_reasons: list[str]


def author_views(candidate: Candidate) -> list[AuthorView]:
    """The work's authors in order; Beijing authors marked by what the candidates row says:
    the first author when ``beijing_first``, the corresponding author(s) when
    ``beijing_corresponding`` (the table flags the work, not each author)."""
    views = []
    for authorship in candidate.authorships or []:
        reasons = []
        if authorship.get("position") == "first" and candidate.beijing_first:
            reasons.append(_("Beijing first author"))
        if authorship.get("is_corresponding") and candidate.beijing_corresponding:
            reasons.append(_("Beijing corresponding author"))
        views.append(AuthorView(
            name=authorship.get("name") or authorship.get("author_id") or "—",
            orcid=authorship.get("orcid"),
            author_id=authorship.get("author_id"),
            position=authorship.get("position"),
            is_corresponding=bool(authorship.get("is_corresponding")),
            institution_ids=list(authorship.get("institution_ids") or []),
            beijing_reasons=reasons,
        ))
    return views


def _part_value(code: str, field: str):
    def value(candidate: Candidate):
        part = next((part for part in candidate.score_parts if part.get("indicator") == code), None)
        return None if part is None else part.get(field)
    return value


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


EXPORT_COLUMNS = [
    Column(_l("Rank"), lambda c: c.rank, 8),
    Column(_l("Score"), lambda c: round(c.score, 6), 10),
    Column(_l("OpenAlex work"), lambda c: c.work_id, 16),
    Column(_l("Paper title"), lambda c: c.title, 60),
    Column(_l("Journal"), lambda c: c.source_name, 30),
    Column("ISSN-L", lambda c: c.issn_l, 12),
    Column(_l("Publication year"), lambda c: c.publication_year, 10),
    Column("DOI", lambda c: c.doi, 30),
    *[column for code in INDICATORS for column in (
        Column(INDICATOR_TITLES[code], _part_value(code, "value"), 14),
        Column(_l("%(indicator)s percentile", indicator=INDICATOR_TITLES[code]), _part_value(code, "percentile"), 14),
    )],
    Column(_l("Stability"), lambda c: c.stability.title if c.stability else None, 10),
    Column(_l("Rank interval"), lambda c: f"{c.rank_interval_low}–{c.rank_interval_high}", 12),
    Column(_l("Research topic"), lambda c: c.topic_id, 12),
    Column(_l("Cluster terms"), lambda c: c.cluster_terms, 30),
    Column(_l("Beijing first author"), lambda c: _yes_no(c.beijing_first), 12),
    Column(_l("Beijing corresponding author"), lambda c: _yes_no(c.beijing_corresponding), 12),
]
