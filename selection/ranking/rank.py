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
from selection.schema import CANDIDATE_COLUMNS, CANDIDATES_SCHEMA, INDICATORS, JOURNAL_GROUPS

# The works columns the ranking reads (everything else in works.parquet is left on disk).
RANK_INPUT_COLUMNS = (
    "work_id", "doi", "title", "publication_year", "publication_date", "type", "source_name",
    "issn_l", "issns", "journal_group", "discipline", "subfield_id", "topic_id", "beijing_any",
    "beijing_first", "beijing_corresponding", "countries", "cited_by_count", "counts_by_year",
    "fwci", "citation_normalized_percentile", "is_retracted", "abstract", "authorships",
)
RANKED_TYPES = ("article", "review")
# Taken from the works frame only for the works that need them: the texts of the works
# clustered, the authorships of the candidates; the universe leaves them out.
DEFERRED_COLUMNS = ("title", "abstract", "authorships")
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
    """

    candidates: pd.DataFrame
    pool: pd.DataFrame
    lists: list[dict]
    funnel: dict[str, int]
    window: tuple[int, int]
    as_of: dt.date
    settings: RankSettings

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
    duplicate_rows, merged = _duplicate_dois(works.iloc[kept_rows], kept_rows)
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


def stratum_codes(works: pd.DataFrame) -> np.ndarray:
    """One integer per subfield x publication year x journal group (missing subfield: its own)."""
    subfield = works["subfield_id"].to_numpy(dtype=float, na_value=-1).astype("int64")
    year = works["publication_year"].to_numpy(dtype="int64")  # ranked works all have a year
    group = (works["journal_group"].to_numpy() == JOURNAL_GROUPS[1]).astype("int64")
    return (subfield + 1) * 100_000 + year * 10 + group


def indicator_values(
    universe: pd.DataFrame, harvested: pd.DataFrame, settings: RankSettings, window: tuple[int, int],
    as_of: dt.date,
) -> pd.DataFrame:
    """The raw value of every indicator for every ranked work (NaN: no data).

    The frontier's years count back from the window's last year, taken pro rata only when
    the as-of date falls inside it; the hot indicator counts citations up to ``as_of``.
    """
    first_year, last_year = window
    earlier_years = min(indicators.EARLIER_YEARS, last_year - indicators.RECENT_YEARS + 1 - first_year)
    last_year_fraction = indicators.year_fraction(as_of) if as_of.year == last_year else 1.0
    rates = indicators.topic_year_rates(
        harvested["topic_id"], harvested["publication_year"], last_year, last_year_fraction,
        settings.frontier_current_year_weight, earlier_years,
    )
    citation = indicators.citation_component(
        universe["citation_normalized_percentile"], universe["fwci"], settings.fwci_cap
    )
    lead_in_beijing = _flag(universe["beijing_first"]) | _flag(universe["beijing_corresponding"])
    return pd.DataFrame(
        {
            "influence": indicators.influence_values(
                citation, indicators.international_share(universe["countries"]), settings.citation_part
            ),
            "hot": indicators.hot_values(universe["counts_by_year"], universe["cited_by_count"], as_of),
            "frontier": indicators.frontier_values(universe["topic_id"], rates, settings.frontier_smoothing),
            "originality": indicators.originality_values(
                lead_in_beijing, universe["type"].to_numpy() == "article", universe["topic_id"], rates,
                settings.originality_parts,
            ),
        },
        index=universe.index,
    )


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
    ranked work; ``values``, ``percentiles`` and ``weights``: one column per indicator.
    """

    works: pd.DataFrame
    universe: pd.DataFrame
    merged_dois: dict[str, list[str]]
    strata: pd.Series
    values: pd.DataFrame
    percentiles: pd.DataFrame
    weights: pd.DataFrame
    settings: RankSettings


@dataclass(frozen=True)
class EligibleLists:
    """The eligible works of every discipline x group list in preference order (lists one
    after the other, best score first, ties by work id).

    ``rows``: discipline, journal_group, work_id, score and ``row`` (position in the
    universe). ``list_key``: "discipline/group" per row. ``in_top``: among the first
    ``top_of_list_factor x per_group`` of its list. ``topic_unit``: the topic, or the work
    id for a work without a topic (a topic of its own).
    """

    rows: pd.DataFrame
    list_key: pd.Series
    in_top: np.ndarray
    topic_unit: pd.Series


def rank_works(works: pd.DataFrame, settings: RankSettings, disciplines: DisciplineMap | None = None) -> RankResult:
    """Rank the works and pick ``settings.per_group`` candidates per discipline and group.

    ``disciplines`` (default: the packaged mapping) decides which lists the summary shows
    even when empty. Raises SelectionError for missing columns or an empty table.
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
    scored, funnel, window, as_of = score_universe(works.reset_index(drop=True), settings)
    percentiles, weights = scored.percentiles, scored.weights
    score = (percentiles * weights).sum(axis=1)
    eligible = (percentiles.max(axis=1) >= 1 - settings.eligibility_top_share - SLACK).to_numpy()
    pool = pd.DataFrame(
        {
            "discipline": scored.universe["discipline"].to_numpy(),
            "journal_group": scored.universe["journal_group"].to_numpy(),
            "work_id": scored.universe["work_id"].to_numpy(),
            "score": score.to_numpy(),
            "eligible": eligible,
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
    # The works that could take a seat in a bootstrap round: the top of each list by score,
    # and the first (factor x quota) works of the capped walk (what the cap lets through).
    reach = settings.top_of_list_factor * settings.per_group
    contenders = lists.in_top | selected | diversity.capped_selection(lists.list_key, cap_unit, reach, 1.0, cap=cap)
    # The bootstrap (numpy, which releases the GIL) runs on a second core while the text
    # clustering (mostly Python) runs here; each has its own seed, so the result is the same.
    with ThreadPoolExecutor(max_workers=1) as background:
        intervals = background.submit(_rank_intervals, scored, lists, cap_unit, contenders)
        if settings.diversity_unit == "topic":
            clusters, terms = _cluster_lists(scored, lists, lists.in_top, selected)
        interval_low, interval_high = intervals.result()
    pool["selected"] = False
    pool.loc[lists.rows.index[selected], "selected"] = True

    picks = lists.rows.loc[selected].assign(
        list_key=lists.list_key.to_numpy()[selected],
        cluster=clusters[selected],
        cluster_terms=terms[selected],
        topic_unit=lists.topic_unit.to_numpy()[selected],
        cap_unit=cap_unit.to_numpy()[selected],
        rank_interval_low=interval_low[selected[contenders]],
        rank_interval_high=interval_high[selected[contenders]],
    )
    candidates = _candidate_frame(scored, picks)
    counts = _list_counts(pool, disciplines, settings)
    pool = pool[["work_id", "discipline", "journal_group", "score", "eligible", "selected"]]
    return RankResult(candidates, pool, counts, funnel, window, as_of, settings)


def score_universe(
    works: pd.DataFrame, settings: RankSettings
) -> tuple[ScoredUniverse, dict[str, int], tuple[int, int], dt.date]:
    """The universe of ``works`` (a frame with a 0..n-1 index) with every indicator's
    value, stratum percentile and weight; also the funnel, the window and the as-of date."""
    universe, merged_dois, funnel, window = select_universe(works, settings)
    as_of = resolve_as_of(universe, window[1], settings)
    values = indicator_values(universe, works, settings, window, as_of)
    strata = pd.Series(stratum_codes(universe), index=universe.index)
    percentiles = pd.DataFrame(
        {name: indicators.stratum_percentile(values[name], strata) for name in INDICATORS}, index=universe.index
    )
    weights = _weights_per_work(universe["discipline"], settings)
    scored = ScoredUniverse(works, universe, merged_dois, strata, values, percentiles, weights, settings)
    return scored, funnel, window, as_of


def _eligible_lists(pool: pd.DataFrame, scored: ScoredUniverse) -> EligibleLists:
    """The eligible rows of ``pool`` ordered list by list, best first."""
    settings = scored.settings
    ordered = pool.loc[pool["eligible"]].sort_values(
        ["discipline", "journal_group", "score", "work_id"], ascending=[True, True, False, True], kind="stable"
    )
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


def _rank_intervals(scored: ScoredUniverse, lists: EligibleLists, cap_unit: pd.Series, contenders: np.ndarray):
    """Rank interval of every contending row: each bootstrap round (resampled baselines,
    jittered weights) selects again with the cap on ``cap_unit`` and records the seat rank,
    or ``per_group + 1`` for no seat."""
    settings = scored.settings
    rows = lists.rows["row"].to_numpy()[contenders]
    stratum_index = pd.factorize(scored.strata.to_numpy())[0]
    parts = {}
    for name in INDICATORS:
        has_value = scored.values[name].notna().to_numpy()
        below, equal, count = stability.stratum_position(
            stratum_index, scored.percentiles[name].to_numpy(), has_value, rows
        )
        parts[name] = pd.DataFrame({"below": below, "equal": equal, "count": count, "has_value": has_value[rows]})
    list_code = pd.factorize(lists.list_key.to_numpy()[contenders], sort=True)[0]
    unit_code = pd.factorize(cap_unit.to_numpy()[contenders], use_na_sentinel=False)[0]
    return stability.rank_stability(
        list_code, unit_code, np.flatnonzero(contenders), parts, scored.weights.to_numpy()[rows],
        settings.bootstrap_rounds, settings.weight_jitter, settings.stability_interval, settings.seed,
        settings.per_group, diversity.cap_seats(settings.per_group, settings.topic_cap_share),
    )


def _candidate_frame(scored: ScoredUniverse, picks: pd.DataFrame) -> pd.DataFrame:
    """The candidates table in CANDIDATE_COLUMNS order, ranks counted inside each list."""
    settings, strata = scored.settings, scored.strata
    rows = picks["row"].to_numpy()
    lists = picks["list_key"].to_numpy()
    cap = diversity.cap_seats(settings.per_group, settings.topic_cap_share)
    stratum_works = strata.groupby(strata.to_numpy()).transform("size").to_numpy()
    valued_works = np.column_stack(
        [scored.values[name].notna().groupby(strata.to_numpy()).transform("sum").to_numpy() for name in INDICATORS]
    )
    source = scored.universe.iloc[rows]
    source_rows = source["source_row"].to_numpy()
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
            valued_works[rows],
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
    }
    for name in ("subfield_id", "publication_year", "type", "doi", "source_name", "issn_l",
                 "beijing_first", "beijing_corresponding"):
        columns[name] = source[name].to_numpy()
    columns["title"] = scored.works["title"].to_numpy()[source_rows]
    columns["merged_work_ids"] = [scored.merged_dois.get(doi, []) for doi in source["doi"]]
    columns["authorships"] = scored.works["authorships"].iloc[source_rows]
    table = pa.table(
        {name: _arrow_column(columns[name], CANDIDATES_SCHEMA.field(name).type) for name in CANDIDATE_COLUMNS},
        schema=CANDIDATES_SCHEMA,
    )
    return table.to_pandas()


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
