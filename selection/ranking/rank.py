"""Explainable quantitative ranking of Beijing papers: 200-500 candidates per discipline and
journal group (domestic, international). The Python API behind ``python -m selection rank``
and the web app; docs/selection-method.md states the method.

``rank_works(works, settings)`` takes a works frame (``selection.schema.WORKS_SCHEMA``
columns) and returns the candidates with every indicator's value, percentile and weight
beside the score, so each score can be recomputed from its row.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from selection.disciplines import DisciplineMap, load_disciplines
from selection.errors import SelectionError
from selection.ranking import diversity, explain, indicators, stability
from selection.ranking.settings import RankSettings
from selection.schema import (
    ADMISSIONS,
    CANDIDATE_COLUMNS,
    CANDIDATES_SCHEMA,
    INDICATORS,
    JOURNAL_GROUPS,
    STRATUM_LEVELS,
)

# The works columns the ranking reads (everything else in works.parquet is left on disk).
RANK_INPUT_COLUMNS = (
    "work_id", "doi", "title", "publication_year", "publication_date", "type", "language", "source_id", "source_name",
    "issn_l", "issns", "journal_group", "discipline", "field_id", "subfield_id", "topic_id", "beijing_any",
    "beijing_first", "beijing_corresponding", "countries", "authors_count", "beijing_author_share",
    "cited_by_count", "counts_by_year", "fwci", "citation_normalized_percentile", "world_top_1pct",
    "world_top_10pct", "is_retracted", "abstract", "authorships", "topic_ids", "topic_scores", "topic_names",
    "keywords", "funders", "oa_url", "wos_times_cited", "esi_highly_cited", "esi_hot_paper", "record_sources",
)
RANKED_TYPES = ("article", "review")
# Taken from the works frame only for the works that need them: the texts of the works
# clustered, the topics of the pairing measure (over all works), the panel's dossier of
# the candidates; the universe leaves them out.
DEFERRED_COLUMNS = (
    "title", "abstract", "authorships", "source_id", "topic_ids", "topic_scores", "topic_names", "keywords", "funders", "oa_url",
    "wos_times_cited", "esi_highly_cited", "esi_hot_paper", "record_sources",
)
STRATUM_LEVEL_STEP = 1 << 40  # stratum codes of different pooling levels never collide
SLACK = 1e-9  # float tolerance of the eligibility gate


@dataclass(frozen=True)
class RankResult:
    """What a ranking run produces.

    ``candidates``: one row per selected work, ``CANDIDATE_COLUMNS``, ordered by discipline,
    group and rank. ``pool``: every ranked work's id, discipline, group, score and whether
    it was eligible and selected (for the charts and checks). ``lists``: one dict per discipline x group
    with pool, eligible and selected counts and the shortfall. ``funnel``: how many works
    each universe rule kept. ``window``: the first and last publication year ranked.
    ``as_of``: the date used for "now" (the hot indicator and the frontier's pro rata year).
    ``contention``: the work ids whose citing side is worth fetching (contention.txt).
    ``originality``: the originality measure's distribution and correlations.
    ``evidence``: which tables beyond the works the ranking had (``Evidence.used``).
    """

    candidates: pd.DataFrame
    pool: pd.DataFrame
    lists: list[dict]
    funnel: dict[str, int]
    window: tuple[int, int]
    as_of: dt.date
    settings: RankSettings
    contention: list[str]
    originality: dict
    evidence: dict

    @property
    def shortfalls(self) -> list[dict]:
        """The lists that could not fill their quota."""
        return [entry for entry in self.lists if entry["shortfall"] > 0]

    def summary(self) -> dict:
        """Counts per list, shortfalls, the funnel and the settings, JSON-ready."""
        return {
            "as_of": self.as_of.isoformat(),
            "window": list(self.window),
            "author_rule": self.settings.author_rule,
            "funnel": self.funnel,
            "lists": self.lists,
            "shortfalls": self.shortfalls,
            "candidates": len(self.candidates),
            "admissions": {code: int((self.candidates["admission"] == code).sum()) for code in ADMISSIONS},
            "originality": self.originality,
            "evidence": self.evidence,
            "settings": self.settings.as_dict(),
        }


def check_works_columns(columns) -> None:
    """SelectionError naming the missing columns when a works table lacks any the ranking reads."""
    missing = [name for name in RANK_INPUT_COLUMNS if name not in set(columns)]
    if missing:
        raise SelectionError(
            f"the works table lacks column(s) {', '.join(missing)}; "
            "write it with the harvest or selection.synthetic (schema: selection.schema.WORKS_SCHEMA)"
            + ("; a harvest made before authorships were kept gets them with python -m selection renormalise "
               "HARVEST_DIR" if "authorships" in missing else "")
        )


def load_works(path: str | Path) -> pd.DataFrame:
    """Read the columns the ranking needs from a works.parquet, Arrow-backed like
    ``selection.synthetic.works_frame`` (no copy into Python objects)."""
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise SelectionError(f"works file {path} not found; pass the works.parquet of a harvest") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise SelectionError(f"works file {path} is not a Parquet file ({exc}); pass a works.parquet") from None
    check_works_columns(schema.names)
    table = pq.read_table(path, columns=list(RANK_INPUT_COLUMNS))
    return table.to_pandas(types_mapper=pd.ArrowDtype, ignore_metadata=True)


def _years(works: pd.DataFrame) -> np.ndarray:
    """publication_year as floats, NaN where missing (Arrow-backed or plain columns alike)."""
    return works["publication_year"].to_numpy(dtype=float, na_value=np.nan)


def window_end_year(works: pd.DataFrame, passing: np.ndarray, settings: RankSettings) -> int:
    """The last publication year ranked: ``settings.window_end_year``, else the latest year
    among the works that pass every other universe rule (``passing``), else among all works
    with a year. SelectionError when no work has a publication year."""
    if settings.window_end_year is not None:
        return settings.window_end_year
    years = _years(works)
    candidates = years[passing & ~np.isnan(years)]
    if len(candidates) == 0:
        candidates = years[~np.isnan(years)]
    if len(candidates) == 0:
        raise SelectionError(
            "no work in the works table has a publication_year; check the harvest output "
            "(or set [universe] window_end_year)"
        )
    return int(candidates.max())


def window_years(last_year: int, settings: RankSettings) -> tuple[int, int]:
    """First and last publication year ranked."""
    return last_year - settings.window_years + 1, last_year


def _latest_ranked(universe: pd.DataFrame) -> tuple[dt.date | None, str | None]:
    """The latest publication_date among the ranked works and the id of a work that has it
    (None, None when no ranked work has a date)."""
    dates = indicators.arrow_column(universe["publication_date"], pa.date32())
    latest = pc.max(dates).as_py() if len(dates) else None
    if latest is None:
        return None, None
    position = int(pc.index(dates, pa.scalar(latest, pa.date32())).as_py())
    return latest, str(universe["work_id"].iloc[position])


def resolve_as_of(universe: pd.DataFrame, last_year: int, settings: RankSettings) -> dt.date:
    """The date used for "now": ``settings.as_of``, else the latest publication_date among
    the ranked works, or 31 December of the window's last year when no ranked work is dated
    in it or later (an empty universe, undated records).

    SelectionError when an explicit as_of lies before a ranked work's publication date or
    before the window's last year: "now" cannot precede what is ranked.
    """
    latest, latest_work = _latest_ranked(universe)
    if settings.as_of is None:
        return latest if latest is not None and latest.year >= last_year else dt.date(last_year, 12, 31)
    as_of = settings.as_of
    if latest is not None and as_of < latest:
        raise SelectionError(
            f"as_of {as_of.isoformat()} is earlier than the latest publication date of a ranked work "
            f"({latest.isoformat()}, {latest_work}); set [universe] as_of to {latest.isoformat()} or later, "
            "leave it empty to use that date, or end the window earlier with [universe] window_end_year"
        )
    if as_of.year < last_year:
        raise SelectionError(
            f"as_of {as_of.isoformat()} falls before {last_year}, the last year of the window; set "
            f"[universe] as_of in {last_year} or later, or window_end_year to {as_of.year} or earlier"
        )
    return as_of


def _flag(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=bool, na_value=False)


def author_rule_mask(works: pd.DataFrame, author_rule: str) -> np.ndarray:
    """Which works satisfy the author rule (a missing flag counts as not in Beijing)."""
    first, corresponding = _flag(works["beijing_first"]), _flag(works["beijing_corresponding"])
    return {
        "any": _flag(works["beijing_any"]),
        "first": first,
        "corresponding": corresponding,
        "first_or_corresponding": first | corresponding,
    }[author_rule]


def has_issn(works: pd.DataFrame) -> np.ndarray:
    """The ISSN rule: an ISSN-L or at least one ISSN on the primary source."""
    issn_count = pc.list_value_length(indicators.arrow_column(works["issns"], pa.list_(pa.string())))
    listed = pc.fill_null(pc.greater(issn_count, 0), False).to_numpy(zero_copy_only=False)
    return works["issn_l"].notna().to_numpy() | listed


def select_universe(
    works: pd.DataFrame, settings: RankSettings
) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, int], tuple[int, int]]:
    """The works that are ranked, the records merged away per DOI, how many works each rule
    kept (in order), and the window (first and last publication year).

    Rules: article (or review when ``rank_reviews``) in an ISSN journal of a known group,
    inside the window, not retracted, mapped to a discipline, meeting the author rule; then
    one record per DOI: the most cited, then the smallest id. The window ends at
    ``settings.window_end_year`` or else at the latest publication year among the works that
    pass every other rule (a work without a year never passes). The universe keeps the
    position of each work in ``works`` as ``source_row`` and leaves the text columns there.
    """
    year = _years(works)
    ranked_types = RANKED_TYPES if settings.rank_reviews else ("article",)
    rules = {
        "article_or_review": _flag(works["type"].isin(RANKED_TYPES)),
        "issn_journal": has_issn(works) & _flag(works["journal_group"].isin(JOURNAL_GROUPS)),
        "in_window": None,  # filled in below, from the works passing all the other rules
        "not_retracted": ~_flag(works["is_retracted"]),
        "in_a_discipline": works["discipline"].notna().to_numpy(dtype=bool),
        f"author_rule_{settings.author_rule}": author_rule_mask(works, settings.author_rule),
        "ranked_type": _flag(works["type"].isin(ranked_types)),
    }
    passing_others = np.ones(len(works), dtype=bool)
    for passed in rules.values():
        if passed is not None:
            passing_others &= passed
    first_year, last_year = window_years(window_end_year(works, passing_others, settings), settings)
    rules["in_window"] = (year >= first_year) & (year <= last_year)  # NaN (no year) fails both
    funnel = {"input": len(works)}
    keep = np.ones(len(works), dtype=bool)
    for name, passed in rules.items():
        keep &= passed
        funnel[name] = int(keep.sum())
    kept_rows = np.flatnonzero(keep)
    duplicate_rows, merged = _duplicate_dois(works[["doi", "cited_by_count", "work_id"]].iloc[kept_rows], kept_rows)
    kept_rows = kept_rows[~np.isin(kept_rows, duplicate_rows)]
    funnel["distinct_doi"] = len(kept_rows)
    columns = [name for name in RANK_INPUT_COLUMNS if name not in DEFERRED_COLUMNS]
    universe = works[columns].iloc[kept_rows].reset_index(drop=True)
    universe["source_row"] = kept_rows
    return universe, merged, funnel, (first_year, last_year)


def _duplicate_dois(works: pd.DataFrame, positions: np.ndarray) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Of ``works`` (at ``positions`` in the frame they came from): the positions of the
    records that lose to another record of their DOI, and DOI -> the work ids merged away."""
    doi = works["doi"]
    shared = (doi.notna() & doi.duplicated(keep=False)).to_numpy()
    if not shared.any():
        return np.empty(0, dtype="int64"), {}
    records = pd.DataFrame(
        {
            "doi": doi.to_numpy()[shared],
            "cited": works["cited_by_count"].to_numpy(dtype=float, na_value=-1)[shared],
            "work_id": works["work_id"].to_numpy()[shared],
            "position": positions[shared],
        }
    ).sort_values(["doi", "cited", "work_id"], ascending=[True, False, True])
    losers = records.loc[records["doi"].duplicated()]
    merged = losers.groupby("doi", sort=True)["work_id"].agg(list).to_dict()
    return losers["position"].to_numpy(), merged


def _flags_code(works: pd.DataFrame, settings: RankSettings) -> np.ndarray:
    """Journal group, track and (when split) the domestic language, as bits 0..7."""
    international = (works["journal_group"].to_numpy() == JOURNAL_GROUPS[1]).astype("int64")
    review = (works["type"].to_numpy() == "review").astype("int64")
    chinese = np.zeros(len(works), dtype="int64")
    if settings.split_domestic_language:
        language = works["language"].to_numpy(dtype=object, na_value=None)
        chinese = ((international == 0) & (language == "zh")).astype("int64")
    return international + 2 * review + 4 * chinese


def stratum_levels(works: pd.DataFrame, settings: RankSettings) -> tuple[np.ndarray, np.ndarray]:
    """The stratum code of every ranked work at each pooling level (rows: STRATUM_LEVELS)
    and the level each work is ranked at.

    Level 0 is subfield x year, 1 field x year, 2 discipline x year, 3 every discipline of
    the year (citations age, so the year is the last thing pooled away); each also splits
    by journal group and track (and the domestic language when set). A work takes the first level whose stratum holds ``min_stratum_works``
    ranked works, the last level otherwise: a small stratum pools upward instead of
    leaving its works unplaceable.
    """
    flags = _flags_code(works, settings)
    year = works["publication_year"].to_numpy(dtype="int64")
    subfield = works["subfield_id"].to_numpy(dtype=float, na_value=-1).astype("int64")
    field = works["field_id"].to_numpy(dtype=float, na_value=-1).astype("int64")
    discipline = pd.factorize(works["discipline"].to_numpy())[0].astype("int64")
    parts = ((subfield + 1, year), (field + 1, year), (discipline + 1, year), (np.zeros_like(year), year))
    codes = np.empty((len(parts), len(works)), dtype="int64")
    level = np.full(len(works), len(parts) - 1, dtype="int64")
    undecided = np.ones(len(works), dtype=bool)
    for index, (unit, unit_year) in enumerate(parts):
        codes[index] = index * STRATUM_LEVEL_STEP + (unit * 10_000 + unit_year) * 8 + flags
        _, inverse, counts = np.unique(codes[index], return_inverse=True, return_counts=True)
        large_enough = counts[inverse] >= settings.min_stratum_works
        level[undecided & large_enough] = index
        undecided &= ~large_enough
    return codes, level


def level_population(codes: np.ndarray, level: np.ndarray, index: int) -> np.ndarray:
    """The works whose percentile at pooling level ``index`` is needed as population: every
    work of a level-``index`` stratum that holds a work ranked at that level (level 0: all)."""
    if index == 0:
        return np.ones(len(level), dtype=bool)
    return np.isin(codes[index], np.unique(codes[index][level == index]))


def level_percentiles(values: pd.Series, codes: np.ndarray, level: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each pooling level some work is ranked at: the positions of that level's
    population (``level_population``) and their stratum percentiles
    (``indicators.stratum_percentile``) among it."""
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    result = {}
    for index in np.unique(level):
        population = np.flatnonzero(level_population(codes, level, index))
        result[int(index)] = population, indicators.stratum_percentile(
            pd.Series(numbers[population]), pd.Series(codes[index][population])
        ).to_numpy()
    return result


def pooled_percentile(by_level: dict[int, tuple[np.ndarray, np.ndarray]], level: np.ndarray) -> np.ndarray:
    """Each work's stratum percentile at its own pooling level, from ``level_percentiles``."""
    result = np.zeros(len(level))
    for index, (population, percentile) in by_level.items():
        at_level = level[population] == index
        result[population[at_level]] = percentile[at_level]
    return result


@dataclass(frozen=True)
class Evidence:
    """What the ranking knows beyond the works table: ``python -m selection enrich``'s
    tables (world topic counts, the national citation baseline of domestic journals, the
    citing side of the works in contention) and the user's journal table."""

    topic_growth: pd.DataFrame
    national_baseline: pd.DataFrame
    citing: pd.DataFrame
    journals: object | None = None  # selection.journal_lists.JournalTable

    @classmethod
    def none(cls) -> Evidence:
        """No enrichment and no journal table: every baseline is the harvest's."""
        return cls(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())

    def used(self) -> dict[str, bool]:
        """Which tables the ranking had, for summary.json (the panel's dossier says "none
        imported" rather than "not listed" without a journal table)."""
        return {
            "world_topic_growth": not self.topic_growth.empty,
            "national_baseline": not self.national_baseline.empty,
            "citing_side": not self.citing.empty,
            "journal_table": self.journals is not None,
        }

    @classmethod
    def from_enrichment(cls, enrichment, journals=None) -> Evidence:
        """From ``selection.enrich.read_enrichment(folder)``."""
        return cls(enrichment.topic_growth, enrichment.national_baseline, enrichment.citing, journals)


def indicator_values(
    universe: pd.DataFrame, harvested: pd.DataFrame, settings: RankSettings, window: tuple[int, int],
    as_of: dt.date, evidence: Evidence,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw value of every indicator for every ranked work (NaN: no data), and what each
    is measured against (``citation_baseline``, ``frontier_baseline``) with the national
    percentile and the citing-side figures.

    The frontier's years count back from the window's last year, taken pro rata only when
    the as-of date falls inside it; the hot indicator counts citations up to ``as_of``.
    """
    first_year, last_year = window
    earlier_years = min(indicators.EARLIER_YEARS, last_year - indicators.RECENT_YEARS + 1 - first_year)
    last_year_fraction = indicators.year_fraction(as_of) if as_of.year == last_year else 1.0

    def rates(counts: pd.DataFrame) -> pd.DataFrame:
        return indicators.topic_year_rates(
            counts, last_year, last_year_fraction, settings.frontier_current_year_weight, earlier_years
        )

    world_growth = indicators.topic_growth(
        universe["topic_id"], rates(indicators.world_topic_year_counts(evidence.topic_growth)),
        settings.frontier_smoothing,
    )
    harvest_growth = indicators.topic_growth(
        universe["topic_id"],
        rates(indicators.topic_year_counts(harvested["topic_id"], harvested["publication_year"])),
        settings.frontier_smoothing,
    )
    growth = np.where(np.isnan(world_growth), harvest_growth, world_growth)
    hot = indicators.hot_values(universe["counts_by_year"], universe["cited_by_count"], as_of)

    domestic = universe["journal_group"].to_numpy() == JOURNAL_GROUPS[0]
    national = indicators.national_percentiles(
        universe["subfield_id"], universe["publication_year"], universe["cited_by_count"], evidence.national_baseline
    )
    national = np.where(domestic, national, np.nan)
    world = indicators.citation_component(
        universe["citation_normalized_percentile"], universe["fwci"], settings.fwci_cap
    )
    citation = np.where(np.isnan(national), world, national)
    baseline = np.where(~np.isnan(national), "national", np.where(~np.isnan(world), "world", "beijing"))
    citing = _citing_side(universe["work_id"], evidence.citing)
    novelty = indicators.pairing_novelty(harvested["topic_ids"], harvested["topic_scores"], harvested["source_id"])
    values = pd.DataFrame(
        {
            "influence": indicators.influence_values(citation, citing["citing_foreign_share"].to_numpy(),
                                                     settings.citation_part),
            "hot": hot,
            "frontier": indicators.frontier_values(growth, indicators.position_in_topic(hot, universe["topic_id"])),
            "originality": novelty[universe["source_row"].to_numpy()],
        },
        index=universe.index,
    )
    context = citing.assign(
        citation_baseline=baseline,
        frontier_baseline=np.where(np.isnan(world_growth), "harvest", "world"),
        national_percentile=national,
        citation=citation,
        beijing_citations=universe["cited_by_count"].to_numpy(dtype=float, na_value=np.nan),
    )
    return values, context


def _citing_side(work_ids: pd.Series, citing: pd.DataFrame) -> pd.DataFrame:
    """citing_works, citing_foreign_share and citing_countries per work (NaN unfetched)."""
    columns = ["citing_works", "citing_foreign_share", "citing_countries"]
    if citing.empty:
        return pd.DataFrame(np.nan, index=work_ids.index, columns=columns)
    table = citing.drop_duplicates("work_id").set_index("work_id")
    fetched = table["citing_works"].astype(float)
    share = table["citing_no_china_works"].astype(float) / fetched.where(fetched > 0)
    frame = pd.DataFrame(
        {"citing_works": fetched, "citing_foreign_share": share, "citing_countries": table["citing_countries"]}
    )
    return frame.reindex(work_ids.to_numpy()).set_axis(work_ids.index).astype(float)


def _weights_per_work(disciplines: pd.Series, settings: RankSettings) -> pd.DataFrame:
    keys = list(disciplines.unique())
    table = pd.DataFrame([settings.weights_for(key) for key in keys], index=keys, columns=list(INDICATORS))
    return table.reindex(disciplines.to_numpy()).set_axis(disciplines.index)


@dataclass(frozen=True)
class ScoredUniverse:
    """The ranked works and what was computed for them, as the selection, the clustering,
    the bootstrap and the candidates table read it.

    ``works``: the input frame (titles and abstracts are taken from it only for the works
    clustered). ``universe``: the ranked works, ``source_row`` their position in ``works``.
    ``merged_dois``: DOI -> the work ids merged away. ``strata``: the stratum code of each
    ranked work at its pooling level (``level``, an index into STRATUM_LEVELS; ``level_codes``
    the codes at every level); ``values``, ``percentiles`` and ``weights``: one column per
    indicator; ``level_percentiles``: per indicator, ``level_percentiles`` (the bootstrap
    reuses them); ``context``: baselines, national percentile and citing side per work;
    ``admission``: ADMISSIONS code or None (not eligible); ``priority``: a world or
    national top-1% paper; ``stratum_works`` and ``valued_works`` (per indicator): the
    population of each work's stratum; ``gate_thresholds``: per work and gate indicator,
    the percentile that passes the gate (``gate_thresholds``).
    """

    works: pd.DataFrame
    universe: pd.DataFrame
    merged_dois: dict[str, list[str]]
    strata: pd.Series
    level: np.ndarray
    level_codes: np.ndarray
    values: pd.DataFrame
    percentiles: pd.DataFrame
    level_percentiles: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]
    weights: pd.DataFrame
    context: pd.DataFrame
    admission: np.ndarray
    priority: np.ndarray
    stratum_works: np.ndarray
    valued_works: np.ndarray
    gate_thresholds: np.ndarray
    settings: RankSettings
    evidence: Evidence


@dataclass(frozen=True)
class EligibleLists:
    """The eligible works of every discipline x group list in walk order (lists one after
    the other; inside a list the reviews over their seat share last, then priority works,
    then by score, ties by work id).

    ``rows``: discipline, journal_group, work_id, score and ``row`` (position in the
    universe). ``list_key``: "discipline/group" per row. ``in_top``: among the first
    ``top_of_list_factor x per_group`` of its list. ``topic_unit``: the topic, or the work
    id for a work without a topic (a topic of its own).
    """

    rows: pd.DataFrame
    list_key: pd.Series
    in_top: np.ndarray
    topic_unit: pd.Series


def apply_journal_table(works: pd.DataFrame, journals) -> pd.DataFrame:
    """The works with the user's journal table applied: a journal it makes domestic (a CN
    number, or a CN source country) is domestic, by the override rule."""
    if journals is None:
        return works
    columns = journals.columns(works["issn_l"], works["issns"])
    domestic = columns["domestic"].to_numpy(dtype=bool)
    if not domestic.any():
        return works
    works = works.copy()
    group = works["journal_group"].to_numpy(dtype=object, na_value=None).copy()
    group[domestic] = JOURNAL_GROUPS[0]
    works["journal_group"] = group
    return works


def rank_works(
    works: pd.DataFrame, settings: RankSettings, disciplines: DisciplineMap | None = None,
    evidence: Evidence | None = None,
) -> RankResult:
    """Rank the works and pick ``settings.per_group`` candidates per discipline and group.

    ``disciplines`` (default: the packaged mapping) decides which lists the summary shows
    even when empty; ``evidence`` adds the enrichment and the journal table. Raises
    SelectionError for missing columns or an empty table.
    """
    check_works_columns(works.columns)
    if works.empty:
        raise SelectionError("the works table has no rows; harvest first or check the --works path")
    disciplines = disciplines or load_disciplines()
    unknown = sorted(set(settings.discipline_weights) - set(disciplines.keys()))
    if unknown:
        raise SelectionError(
            f"discipline_weights name unknown discipline(s) {', '.join(unknown)}; "
            f"known: {', '.join(disciplines.keys())}"
        )
    evidence = evidence or Evidence.none()
    scored, funnel, window, as_of = score_universe(works.reset_index(drop=True), settings, evidence)
    score = (scored.percentiles * scored.weights).sum(axis=1)
    pool = pd.DataFrame(
        {
            "discipline": scored.universe["discipline"].to_numpy(),
            "journal_group": scored.universe["journal_group"].to_numpy(),
            "work_id": scored.universe["work_id"].to_numpy(),
            "score": score.to_numpy(),
            "eligible": pd.notna(scored.admission),
            "admission": scored.admission,
            "row": np.arange(len(scored.universe)),
        }
    )
    lists = _eligible_lists(pool, scored)

    if settings.diversity_unit == "cluster":
        everything = np.ones(len(lists.rows), dtype=bool)
        clusters, terms = _cluster_lists(scored, lists, lists.in_top, everything)
        cap_unit = pd.Series(clusters)
    else:
        cap_unit = lists.topic_unit
    cap = diversity.cap_seats(settings.per_group, settings.topic_cap_share)
    selected = diversity.capped_selection(lists.list_key, cap_unit, settings.per_group, settings.topic_cap_share)
    pool["selected"] = False
    pool.loc[lists.rows.index[selected], "selected"] = True
    # The works that could take a seat in a bootstrap round, gate included: the top of each
    # list by score (eligible or not), the priority works, the seated works and the first
    # (factor x quota) works of the capped walk (what the cap lets through).
    reach = settings.top_of_list_factor * settings.per_group
    walked = np.zeros(len(pool), dtype=bool)
    walked[lists.rows["row"].to_numpy()[
        diversity.capped_selection(lists.list_key, cap_unit, reach, 1.0, cap=cap)]] = True
    contenders = _top_by_score(pool, reach) | pool["selected"].to_numpy() | scored.priority | walked
    # The bootstrap (numpy, which releases the GIL) runs on a second core while the text
    # clustering (mostly Python) runs here; each has its own seed, so the result is the same.
    with ThreadPoolExecutor(max_workers=1) as background:
        intervals = background.submit(_rank_intervals, scored, pool, lists, cap_unit, contenders)
        if settings.diversity_unit == "topic":
            clusters, terms = _cluster_lists(scored, lists, lists.in_top, selected)
        interval_low, interval_high = intervals.result()

    contender_rows = np.flatnonzero(contenders)
    picked_rows = lists.rows["row"].to_numpy()[selected]
    at = np.searchsorted(contender_rows, picked_rows)
    picks = lists.rows.loc[selected].assign(
        list_key=lists.list_key.to_numpy()[selected],
        cluster=clusters[selected],
        cluster_terms=terms[selected],
        topic_unit=lists.topic_unit.to_numpy()[selected],
        cap_unit=cap_unit.to_numpy()[selected],
        rank_interval_low=interval_low[at],
        rank_interval_high=interval_high[at],
    )
    # Seats are taken in walk order (priority works first); ranks count by score.
    picks = picks.sort_values(["list_key", "score", "work_id"], ascending=[True, False, True], kind="stable")
    candidates = _candidate_frame(scored, picks)
    counts = _list_counts(pool, disciplines, settings)
    contention = _contention(pool, settings.contention_factor * settings.per_group)
    pool = pool[["work_id", "discipline", "journal_group", "score", "eligible", "admission", "selected"]]
    return RankResult(candidates, pool, counts, funnel, window, as_of, settings, contention,
                      _originality_summary(scored), evidence.used())


def _by_list_and_score(pool: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``pool`` ordered list by list, best score first (ties: work id), and each row's
    position in its list."""
    ordered = pool.sort_values(["discipline", "journal_group", "score", "work_id"],
                               ascending=[True, True, False, True], kind="stable")
    return ordered, ordered.groupby(["discipline", "journal_group"], sort=False).cumcount().to_numpy()


def _top_by_score(pool: pd.DataFrame, reach: int) -> np.ndarray:
    """Whether each pool row is among the first ``reach`` of its list by score."""
    ordered, position = _by_list_and_score(pool)
    top = np.zeros(len(pool), dtype=bool)
    top[ordered.index.to_numpy()] = position < reach
    return top


def _contention(pool: pd.DataFrame, reach: int) -> list[str]:
    """The works whose citing side is worth fetching: the first ``reach`` eligible works of
    each list by score and every priority work, in list and score order."""
    ordered, position = _by_list_and_score(pool.loc[pool["eligible"]])
    chosen = (position < reach) | (ordered["admission"].to_numpy() != "gate")
    return ordered.loc[chosen, "work_id"].tolist()


def _originality_summary(scored: ScoredUniverse) -> dict:
    """The originality measure's distribution over the ranked works and its Spearman
    correlation with the citation indicators (summary.json)."""
    values = scored.values["originality"]
    known = values.dropna()
    if known.empty:
        return {"measure": "topic_pairing_novelty", "valued_works": 0}
    quantiles = known.quantile([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    correlations = {}
    for name in ("influence", "hot"):
        pair = pd.DataFrame({"a": values, "b": scored.values[name]}).dropna()
        defined = len(pair) >= 3 and pair["a"].nunique() > 1 and pair["b"].nunique() > 1
        correlations[name] = round(float(pair["a"].corr(pair["b"], method="spearman")), 4) if defined else None
    return {
        "measure": "topic_pairing_novelty",
        "valued_works": int(len(known)),
        "distinct_values": int(known.nunique()),
        "quantiles": {f"{q:.2f}": round(float(v), 6) for q, v in quantiles.items()},
        "spearman": correlations,
    }


def score_universe(
    works: pd.DataFrame, settings: RankSettings, evidence: Evidence | None = None,
) -> tuple[ScoredUniverse, dict[str, int], tuple[int, int], dt.date]:
    """The universe of ``works`` (a frame with a 0..n-1 index) with every indicator's
    value, pooled stratum percentile and weight, its baselines and its admission; also the
    funnel, the window and the as-of date."""
    evidence = evidence or Evidence.none()
    works = apply_journal_table(works, evidence.journals)
    universe, merged_dois, funnel, window = select_universe(works, settings)
    as_of = resolve_as_of(universe, window[1], settings)
    values, context = indicator_values(universe, works, settings, window, as_of, evidence)
    level_codes, level = stratum_levels(universe, settings)
    # Without a world or national value the citation part compares with the Beijing stratum.
    beijing_citation = pooled_percentile(level_percentiles(context["beijing_citations"], level_codes, level), level)
    citation = context["citation"].to_numpy()
    citation = np.where(np.isnan(citation) & context["beijing_citations"].notna().to_numpy(), beijing_citation,
                        citation)
    values["influence"] = indicators.influence_values(
        citation, context["citing_foreign_share"].to_numpy(), settings.citation_part
    )
    strata = pd.Series(level_codes[level, np.arange(len(universe))], index=universe.index)
    by_level = {name: level_percentiles(values[name], level_codes, level) for name in INDICATORS}
    percentiles = pd.DataFrame(
        {name: pooled_percentile(by_level[name], level) for name in INDICATORS}, index=universe.index
    )
    weights = _weights_per_work(universe["discipline"], settings)
    stratum_works, valued_works = stratum_counts(level_codes, level, values)
    gate_columns = [INDICATORS.index(name) for name in settings.gate_indicators]
    thresholds = gate_thresholds(valued_works[:, gate_columns], settings)
    admission, priority = admissions(universe, percentiles, context, thresholds, settings)
    scored = ScoredUniverse(works, universe, merged_dois, strata, level, level_codes, values, percentiles, by_level,
                            weights, context, admission, priority, stratum_works, valued_works, thresholds, settings,
                            evidence)
    return scored, funnel, window, as_of


def gate_thresholds(valued_works: np.ndarray, settings: RankSettings) -> np.ndarray:
    """The percentile that passes the gate, per work and gate indicator (``valued_works``:
    the valued works of the work's stratum): ``1 - eligibility_top_share``, or the best
    work's percentile ``1 - 1/(2n)`` when that is lower (a stratum of fewer than
    ``1 / (2 x share)`` works, even after pooling), so the best work of a small stratum
    is never refused for its stratum's size."""
    best = 1 - 1 / (2 * np.maximum(valued_works, 1))
    return np.minimum(1 - settings.eligibility_top_share, best) - SLACK


def admissions(
    universe: pd.DataFrame, percentiles: pd.DataFrame, context: pd.DataFrame, thresholds: np.ndarray,
    settings: RankSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Each ranked work's ADMISSIONS code (None: not eligible) and whether it is a priority
    work. A world top-1% paper (OpenAlex's flag, else its world percentile) and, in a
    domestic journal, a national top-1% paper are admitted whatever their Beijing stratum
    says; every other work needs the gate."""
    threshold = 1 - settings.priority_top_share - SLACK
    flag = universe["world_top_1pct"].to_numpy(dtype=float, na_value=np.nan)
    world_percentile = universe["citation_normalized_percentile"].to_numpy(dtype=float, na_value=np.nan)
    world_top = np.where(np.isnan(flag), world_percentile >= threshold, flag == 1)
    national_top = np.nan_to_num(context["national_percentile"].to_numpy(dtype=float), nan=0.0) >= threshold
    gate = (percentiles[list(settings.gate_indicators)].to_numpy() >= thresholds).any(axis=1)
    admission = np.full(len(universe), None, dtype=object)
    admission[gate] = "gate"
    admission[national_top] = "national_top_1pct"
    admission[world_top] = "world_top_1pct"
    return admission, world_top | national_top


def _eligible_lists(pool: pd.DataFrame, scored: ScoredUniverse) -> EligibleLists:
    """The eligible rows of ``pool`` in walk order, list by list."""
    settings = scored.settings
    eligible = pool.loc[pool["eligible"]]
    rows = eligible["row"].to_numpy()
    list_code = pd.factorize(eligible["discipline"].astype(str) + "/" + eligible["journal_group"].astype(str),
                             sort=True)[0]
    order = diversity.walk_order(
        list_code, scored.priority[rows], eligible["score"].to_numpy(),
        scored.universe["type"].to_numpy()[rows] == "review", pd.factorize(eligible["work_id"], sort=True)[0],
        diversity.cap_seats(settings.per_group, settings.review_seat_share),
    )
    ordered = eligible.iloc[order]
    list_key = ordered["discipline"].astype(str) + "/" + ordered["journal_group"].astype(str)
    position = ordered.groupby(list_key.to_numpy(), sort=False).cumcount().to_numpy()
    in_top = position < settings.top_of_list_factor * settings.per_group
    topic = scored.universe["topic_id"].to_numpy()[ordered["row"].to_numpy()]
    topic_unit = pd.Series(np.where(pd.isna(topic), ordered["work_id"].to_numpy(), topic))
    return EligibleLists(ordered, list_key, in_top, topic_unit)


def _cluster_lists(scored: ScoredUniverse, lists: EligibleLists, fit_mask: np.ndarray, other_mask: np.ndarray):
    """Cluster labels and descriptions for the ordered eligible rows (0 / "" where not
    clustered): each list's ``fit_mask`` rows fit the clusters, its ``other_mask`` rows are
    assigned to the nearest centre."""
    works, settings = scored.works, scored.settings
    list_key = lists.list_key
    labels = np.zeros(len(lists.rows), dtype="int64")
    terms = np.full(len(lists.rows), "", dtype=object)
    needed = np.flatnonzero(fit_mask | other_mask)
    source_rows = scored.universe["source_row"].to_numpy()[lists.rows["row"].to_numpy()[needed]]
    texts = np.empty(len(lists.rows), dtype=object)
    texts[needed] = diversity.work_text(works["title"].iloc[source_rows], works["abstract"].iloc[source_rows])
    for _, positions in pd.Series(needed).groupby(list_key.to_numpy()[needed], sort=True):
        positions = positions.to_numpy()
        fit = positions[fit_mask[positions]]
        other = positions[~fit_mask[positions]]
        fit_labels, other_labels, descriptions = diversity.cluster_texts(
            texts[fit].tolist(), texts[other].tolist(), settings.max_clusters, settings.max_features, settings.seed
        )
        labels[fit], labels[other] = fit_labels, other_labels
        terms[fit] = [descriptions[label] for label in fit_labels]
        terms[other] = [descriptions[label] for label in other_labels]
    return labels, terms


def _rank_intervals(
    scored: ScoredUniverse, pool: pd.DataFrame, lists: EligibleLists, cap_unit: pd.Series, contenders: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rank interval of every contending universe row (in row order): each bootstrap round
    (resampled baselines, jittered weights) applies the gate again, selects again with the
    cap on ``cap_unit`` and records the rank, or ``per_group + 1`` for no seat."""
    settings = scored.settings
    rows = np.flatnonzero(contenders)
    parts = {}
    for name in INDICATORS:
        has_value = scored.values[name].notna().to_numpy()
        below, equal, count = (np.zeros(len(rows), dtype="int64") for _ in range(3))
        for level in np.unique(scored.level[rows]):
            population, percentile = scored.level_percentiles[name][int(level)]
            codes = scored.level_codes[level][population]
            at_level = scored.level[rows] == level
            # the contenders' positions inside the population (every contender of this level is in it)
            query = np.searchsorted(population, rows[at_level])
            found = stability.stratum_position(pd.factorize(codes)[0], percentile, has_value[population], query)
            below[at_level], equal[at_level], count[at_level] = found
        parts[name] = pd.DataFrame({"below": below, "equal": equal, "count": count, "has_value": has_value[rows]})
    # The cap unit of every contender, as the selection counts it: the topic (or the work id
    # of a work without one); in cluster mode the cluster of an eligible work and a unit of
    # its own for a work the clustering never saw.
    work_ids = pool["work_id"].to_numpy()[rows].astype(str)
    topics = scored.universe["topic_id"].to_numpy()[rows]
    unit = np.where(pd.isna(topics), work_ids, topics.astype(str)).astype(object)
    if settings.diversity_unit == "cluster":
        unit = np.char.add("w:", work_ids).astype(object)
        unit[np.searchsorted(rows, lists.rows["row"].to_numpy())] = "c:" + cap_unit.astype(str).to_numpy()
    list_code = pd.factorize(pool["discipline"].astype(str).to_numpy()[rows] + "/"
                             + pool["journal_group"].astype(str).to_numpy()[rows], sort=True)[0]
    gate_columns = [INDICATORS.index(name) for name in settings.gate_indicators]
    return stability.rank_stability(
        stability.Contenders(
            list_code, pd.factorize(unit)[0], pd.factorize(pool["work_id"].to_numpy()[rows], sort=True)[0],
            scored.priority[rows], scored.universe["type"].to_numpy()[rows] == "review",
        ),
        parts, scored.weights.to_numpy()[rows], gate_columns, scored.gate_thresholds[rows],
        settings.bootstrap_rounds, settings.weight_jitter, settings.stability_interval, settings.seed,
        settings.per_group, diversity.cap_seats(settings.per_group, settings.topic_cap_share),
        diversity.cap_seats(settings.per_group, settings.review_seat_share),
    )


def _take_rows(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """``column.iloc[rows]``, taken in row order and put back: Arrow takes nested values
    (authorships) several times faster from sorted positions."""
    order = np.argsort(rows, kind="stable")
    return column.iloc[rows[order]].iloc[np.argsort(order, kind="stable")]


def _candidate_frame(scored: ScoredUniverse, picks: pd.DataFrame) -> pd.DataFrame:
    """The candidates table in CANDIDATE_COLUMNS order, ranks counted by score inside each list."""
    settings = scored.settings
    rows = picks["row"].to_numpy()
    lists = picks["list_key"].to_numpy()
    cap = diversity.cap_seats(settings.per_group, settings.topic_cap_share)
    stratum_works, valued_works = scored.stratum_works, scored.valued_works
    context = scored.context.iloc[rows]
    baselines = np.column_stack([
        context["citation_baseline"].to_numpy(dtype=object),
        np.full(len(rows), "beijing", dtype=object),
        context["frontier_baseline"].to_numpy(dtype=object),
        np.full(len(rows), "harvest", dtype=object),
    ])
    source = scored.universe.iloc[rows]
    source_rows = source["source_row"].to_numpy()
    works = scored.works
    columns = {
        "work_id": picks["work_id"].to_numpy(),
        "discipline": picks["discipline"].to_numpy(),
        "journal_group": picks["journal_group"].to_numpy(),
        "rank": picks.groupby(lists, sort=False).cumcount().to_numpy() + 1,
        "score": picks["score"].to_numpy(),
    }
    for name in INDICATORS:
        columns[f"{name}_value"] = scored.values[name].to_numpy()[rows]
        columns[f"{name}_percentile"] = scored.percentiles[name].to_numpy()[rows]
        columns[f"{name}_weight"] = scored.weights[name].to_numpy()[rows]
    columns |= {
        "stratum_works": stratum_works[rows],
        "score_parts": explain.score_parts_column(
            *(frame[list(INDICATORS)].to_numpy(dtype=float)[rows]
              for frame in (scored.values, scored.percentiles, scored.weights)),
            valued_works[rows], baselines,
        ),
        "cluster": picks["cluster"].to_numpy(),
        "cluster_terms": picks["cluster_terms"].to_numpy(),
        "cluster_rank": picks.groupby([lists, picks["cluster"].to_numpy()], sort=False).cumcount().to_numpy() + 1,
        "topic_id": source["topic_id"].to_numpy(),
        "topic_rank": picks.groupby([lists, picks["topic_unit"].to_numpy()], sort=False).cumcount().to_numpy() + 1,
        "over_topic_cap": picks.groupby([lists, picks["cap_unit"].to_numpy()], sort=False).cumcount().to_numpy() >= cap,
        "rank_interval_low": picks["rank_interval_low"].to_numpy(),
        "rank_interval_high": picks["rank_interval_high"].to_numpy(),
        "stability": stability.stability_labels(picks["rank_interval_high"].to_numpy(), settings.per_group),
        "author_rule": np.full(len(picks), settings.author_rule, dtype=object),
        "track": np.where(source["type"].to_numpy() == "review", "review", "article"),
        "admission": scored.admission[rows],
        "stratum_level": np.array(STRATUM_LEVELS, dtype=object)[scored.level[rows]],
        "citation_baseline": context["citation_baseline"].to_numpy(dtype=object),
        "world_percentile": source["citation_normalized_percentile"].to_numpy(dtype=float, na_value=np.nan),
        "national_percentile": context["national_percentile"].to_numpy(dtype=float),
        "citing_works": context["citing_works"].to_numpy(dtype=float),
        "citing_foreign_share": context["citing_foreign_share"].to_numpy(dtype=float),
        "citing_countries": context["citing_countries"].to_numpy(dtype=float),
        "consortium": (source["authors_count"].to_numpy(dtype=float, na_value=0) >= settings.consortium_authors)
        | (pc.list_value_length(indicators.arrow_column(source["countries"], pa.list_(pa.string())))
           .fill_null(0).to_numpy(zero_copy_only=False) >= settings.consortium_countries),
    }
    for name in ("subfield_id", "publication_year", "type", "doi", "source_name", "issn_l", "beijing_first",
                 "beijing_corresponding", "cited_by_count", "fwci", "world_top_1pct", "world_top_10pct",
                 "beijing_author_share"):
        columns[name] = source[name]
    for name in ("title", "abstract", "keywords", "topic_names", "funders", "oa_url", "wos_times_cited",
                 "esi_highly_cited", "esi_hot_paper", "record_sources", "authorships"):
        columns[name] = _take_rows(works[name], source_rows)
    columns["merged_work_ids"] = [scored.merged_dois.get(doi, []) for doi in source["doi"]]
    columns |= _journal_columns(scored.evidence.journals, works, source_rows)
    table = pa.table(
        {name: _arrow_column(columns[name], CANDIDATES_SCHEMA.field(name).type) for name in CANDIDATE_COLUMNS},
        schema=CANDIDATES_SCHEMA,
    )
    return table.to_pandas()


def stratum_counts(level_codes: np.ndarray, level: np.ndarray, values: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per ranked work: the ranked works of its stratum at its pooling level, and per
    indicator (columns of ``values``, INDICATORS order) those with a value: the population
    its percentiles were taken in."""
    works = np.zeros(len(level), dtype="int64")
    valued = np.zeros((len(level), len(INDICATORS)), dtype="int64")
    has_value = values[list(INDICATORS)].notna().to_numpy()
    for index in np.unique(level):
        at_level = level == index
        _, inverse, counts = np.unique(level_codes[index], return_inverse=True, return_counts=True)
        works[at_level] = counts[inverse][at_level]
        for column in range(len(INDICATORS)):
            sums = np.bincount(inverse, weights=has_value[:, column], minlength=len(counts)).astype("int64")
            valued[at_level, column] = sums[inverse][at_level]
    return works, valued


def _journal_columns(journals, works: pd.DataFrame, source_rows: np.ndarray) -> dict:
    """cn_number, journal_catalogues, journal_tier and journal_warning of the candidates
    from the user's journal table (none without one: the project ships no such lists)."""
    count = len(source_rows)
    if journals is None:
        return {"cn_number": [None] * count, "journal_catalogues": [[]] * count,
                "journal_tier": [None] * count, "journal_warning": [None] * count}
    found = journals.columns(works["issn_l"].iloc[source_rows], works["issns"].iloc[source_rows])
    return {name: found[name].tolist() for name in ("cn_number", "journal_catalogues", "journal_tier",
                                                    "journal_warning")}


def _arrow_column(values, arrow_type: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """``values`` as Arrow of ``arrow_type``; Arrow arrays and Arrow-backed columns as they are."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    return pa.array(values, type=arrow_type, from_pandas=True)


def _list_counts(pool: pd.DataFrame, disciplines: DisciplineMap, settings: RankSettings) -> list[dict]:
    """Pool, eligible and selected counts and the shortfall of every discipline x group list."""
    counts = pool.groupby(["discipline", "journal_group"])[["eligible", "selected"]].agg(["size", "sum"])
    keys = list(disciplines.keys()) + sorted(set(pool["discipline"].unique()) - set(disciplines.keys()))
    lists = []
    for discipline in keys:
        for group in JOURNAL_GROUPS:
            found = (discipline, group) in counts.index
            pool = int(counts.loc[(discipline, group), ("eligible", "size")]) if found else 0
            eligible = int(counts.loc[(discipline, group), ("eligible", "sum")]) if found else 0
            selected = int(counts.loc[(discipline, group), ("selected", "sum")]) if found else 0
            lists.append(
                {
                    "discipline": discipline,
                    "journal_group": group,
                    "pool": pool,
                    "eligible": eligible,
                    "selected": selected,
                    "quota": settings.per_group,
                    "shortfall": max(0, settings.per_group - selected),
                }
            )
    return lists
