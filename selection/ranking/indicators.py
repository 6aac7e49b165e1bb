"""The four ranking indicators and the stratum percentile, as pure vectorised functions.

Each function takes columns of the works frame (pandas Series or pyarrow arrays) and
returns one value per work: float, ``NaN`` where the data cannot say (a missing
indicator earns no credit later, see ``stratum_percentile``). docs/selection-method.md
gives the formulas in words; the names below follow it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from selection.schema import COUNTS_BY_YEAR_TYPE

HOME_COUNTRY = "CN"
# The recent frontier window is the window's last year and the one before; the earlier
# window the (up to) three years before those.
RECENT_YEARS = 2
EARLIER_YEARS = 3
# A January as-of date would blow the current year's pro-rata count up; a month is the floor.
MIN_YEAR_FRACTION = 1 / 12


def arrow_column(series: pd.Series, arrow_type: pa.DataType) -> pa.Array:
    """One column as a single pyarrow array (no copy for Arrow-backed pandas columns)."""
    array = pa.array(series, type=arrow_type, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def stratum_percentile(values: pd.Series, stratum: pd.Series) -> pd.Series:
    """Mid-rank (Hazen) percentile of each value among the non-missing values of its stratum.

    ``p = (number below + half the number equal, itself included) / n``, so the best of
    ``n`` distinct values gets ``1 - 1/(2n)`` and ``1 - p`` reads as "top (1 - p)". A
    missing value gets 0.0: no evidence, no credit; it does not count in ``n``.
    """
    frame = pd.DataFrame({"value": values.to_numpy(dtype=float, na_value=np.nan), "stratum": stratum.to_numpy()})
    grouped = frame.groupby("stratum", sort=False)["value"]
    average_rank = grouped.rank(method="average")
    counted = grouped.transform("count")
    percentile = (average_rank - 0.5) / counted
    return percentile.fillna(0.0).set_axis(values.index)


def year_fraction(as_of: dt.date) -> float:
    """Share of the as-of year elapsed on the as-of date (day of year / days in year), >= 1/12."""
    days_in_year = (dt.date(as_of.year, 12, 31) - dt.date(as_of.year, 1, 1)).days + 1
    return max(as_of.timetuple().tm_yday / days_in_year, MIN_YEAR_FRACTION)


def hot_values(counts_by_year: pd.Series, cited_by_count: pd.Series, as_of: dt.date) -> np.ndarray:
    """Recent citation rate: citations of the last complete year and of the as-of year, per year.

    ``hot = (c[Y-1] + c[Y]) / (1 + f)`` with ``Y`` the as-of year and ``f`` its elapsed share,
    so the current year counts pro rata. OpenAlex leaves out years without citations, so a
    year missing from a present ``counts_by_year`` is 0; a missing ``counts_by_year`` is
    unknown (NaN) unless ``cited_by_count`` is 0.
    """
    counts = arrow_column(counts_by_year, COUNTS_BY_YEAR_TYPE)
    work_count = len(counts)
    flat = pc.list_flatten(counts)
    owner = pc.list_parent_indices(counts).to_numpy()
    years = flat.field("year").to_numpy(zero_copy_only=False)
    cited = np.nan_to_num(flat.field("cited_by_count").to_numpy(zero_copy_only=False).astype(float))
    recent = np.isin(years, (as_of.year - 1, as_of.year))
    recent_citations = np.bincount(owner[recent], weights=cited[recent], minlength=work_count)
    hot = recent_citations / (1 + year_fraction(as_of))
    known = counts.is_valid().to_numpy(zero_copy_only=False)
    never_cited = cited_by_count.to_numpy(dtype=float, na_value=np.nan) == 0
    hot[~known & never_cited] = 0.0
    hot[~known & ~never_cited] = np.nan
    return hot


def citation_component(
    citation_normalized_percentile: pd.Series, fwci: pd.Series, fwci_cap: float
) -> np.ndarray:
    """OpenAlex's citation percentile (0..1); where it is missing, capped FWCI mapped to 0..1.

    ``min(fwci, cap) / (min(fwci, cap) + 1)`` sends the world average (FWCI 1) to 0.5, as
    the percentile roughly does; NaN when both are missing.
    """
    percentile = citation_normalized_percentile.to_numpy(dtype=float, na_value=np.nan)
    capped = np.minimum(fwci.to_numpy(dtype=float, na_value=np.nan), fwci_cap)
    return np.where(np.isnan(percentile), capped / (capped + 1), percentile)


def national_percentiles(
    subfield_ids: pd.Series, years: pd.Series, cited_by_count: pd.Series, baseline: pd.DataFrame
) -> np.ndarray:
    """Mid-rank percentile of each work's citations among the papers of China-published
    journals of its subfield and year (``baseline``: subfield_id, publication_year,
    cited_by_count, works: a histogram from ``python -m selection enrich``).

    ``p = (works below + half the works equal) / all works`` of the subfield-year; NaN
    where the baseline has no such subfield-year or the work has no citation count. A work
    with more citations than any counted gets ``1 - 1/(2n)`` as if it were the best one.
    """
    count = len(subfield_ids)
    result = np.full(count, np.nan)
    if baseline.empty or count == 0:
        return result
    table = baseline.sort_values(["subfield_id", "publication_year", "cited_by_count"])
    keys = table["subfield_id"].to_numpy(dtype="int64") * 10_000 + table["publication_year"].to_numpy(dtype="int64")
    cited = table["cited_by_count"].to_numpy(dtype="int64")
    works = table["works"].to_numpy(dtype="float64")
    cumulative = np.cumsum(works)
    group_start = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    group_keys = keys[group_start]
    group_end = np.r_[group_start[1:], len(keys)]
    before_group = np.r_[0.0, cumulative][group_start]
    group_total = cumulative[group_end - 1] - before_group

    subfield = subfield_ids.to_numpy(dtype=float, na_value=np.nan)
    year = years.to_numpy(dtype=float, na_value=np.nan)
    citations = cited_by_count.to_numpy(dtype=float, na_value=np.nan)
    known = ~(np.isnan(subfield) | np.isnan(year) | np.isnan(citations))
    work_keys = subfield[known].astype("int64") * 10_000 + year[known].astype("int64")
    group = np.searchsorted(group_keys, work_keys)
    found = (group < len(group_keys)) & (group_keys[np.minimum(group, len(group_keys) - 1)] == work_keys)
    group = np.minimum(group, len(group_keys) - 1)
    value = citations[known]
    # position of the work's citation count inside its group's sorted counts
    composite = keys * 10_000_000 + cited
    low = np.searchsorted(composite, work_keys * 10_000_000 + value, side="left")
    high = np.searchsorted(composite, work_keys * 10_000_000 + value, side="right")
    below = np.r_[0.0, cumulative][low] - before_group[group]
    equal = np.r_[0.0, cumulative][high] - np.r_[0.0, cumulative][low]
    total = group_total[group]
    percentile = (below + 0.5 * equal) / np.maximum(total, 1)
    best = 1 - 1 / (2 * np.maximum(total, 1))
    percentile = np.where(equal == 0, np.minimum(percentile, best), percentile)
    result_known = np.where(found & (total > 0), percentile, np.nan)
    result[np.flatnonzero(known)] = result_known
    return result


def influence_values(citation: np.ndarray, citing_foreign_share: np.ndarray, citation_part: float) -> np.ndarray:
    """Influence: ``citation_part * citation + (1 - citation_part) * citing_foreign_share``,
    the citation component alone where the citing side is unknown (NaN).

    NaN where the citation component is missing: the citing side alone is no evidence.
    """
    mixed = citation_part * citation + (1 - citation_part) * citing_foreign_share
    return np.where(np.isnan(citing_foreign_share), citation, mixed)


def topic_year_counts(topic_ids: pd.Series, years: pd.Series) -> pd.DataFrame:
    """Works per topic (rows) and publication year (columns) of a works frame; works without
    a topic or a year do not count."""
    frame = pd.DataFrame(
        {"topic": topic_ids.to_numpy(dtype=object, na_value=None),
         "year": years.to_numpy(dtype=float, na_value=np.nan)}
    ).dropna()
    return frame.groupby(["topic", frame["year"].astype("int64")]).size().unstack(fill_value=0)


def world_topic_year_counts(topic_growth: pd.DataFrame) -> pd.DataFrame:
    """The same table from ``topic_growth.parquet`` (topic_id, publication_year, works)."""
    if topic_growth.empty:
        return pd.DataFrame()
    return topic_growth.pivot_table(
        index="topic_id", columns="publication_year", values="works", aggfunc="sum", fill_value=0
    )


def topic_year_rates(
    counts: pd.DataFrame, last_year: int, last_year_fraction: float, current_year_weight: float, earlier_years: int,
) -> pd.DataFrame:
    """Per topic (``counts``: works per topic and year): works per year in the recent window
    and in the earlier window.

    Recent: the year before ``last_year`` (the window's last year) counts 1, ``last_year``
    itself ``current_year_weight`` times, its count divided by ``last_year_fraction`` (the
    elapsed share of it on the as-of date, 1 when it is complete); the rate is their
    weighted mean. Earlier: the mean over the ``earlier_years`` (1 to 3) years before the
    recent window; the ranking passes as many as its window holds. Indexed by topic id.
    """
    def column(offset: int) -> pd.Series:
        return counts.get(last_year - offset, pd.Series(0, index=counts.index))

    current = column(0) / last_year_fraction
    recent = (column(1) + current_year_weight * current) / (1 + current_year_weight)
    earlier = sum(column(RECENT_YEARS + offset) for offset in range(earlier_years)) / earlier_years
    return pd.DataFrame({"recent_rate": recent, "earlier_rate": earlier})


def topic_growth(topic_ids: pd.Series, rates: pd.DataFrame, smoothing: float) -> np.ndarray:
    """Growth of each work's topic: ``(recent rate + s) / (earlier rate + s)``; NaN without a
    topic or when ``rates`` does not know it."""
    if rates.empty:
        return np.full(len(topic_ids), np.nan)
    growth = (rates["recent_rate"] + smoothing) / (rates["earlier_rate"] + smoothing)
    return topic_ids.map(growth).to_numpy(dtype=float, na_value=np.nan)


def position_in_topic(hot: np.ndarray, topic_ids: pd.Series) -> np.ndarray:
    """Mid-rank percentile (0..1) of each work's citation velocity (the hot value) among the
    ranked works of its topic; 0 without a velocity, NaN without a topic."""
    frame = pd.DataFrame({"hot": hot, "topic": topic_ids.to_numpy(dtype=object, na_value=None)})
    grouped = frame.groupby("topic", sort=False)["hot"]
    position = ((grouped.rank(method="average") - 0.5) / grouped.transform("count")).to_numpy(dtype=float)
    position = np.where(np.isnan(hot), 0.0, position)
    return np.where(frame["topic"].isna().to_numpy(), np.nan, position)


def frontier_values(growth: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Frontier: the topic's growth times ``0.5 + position``, the work's velocity position in
    its topic, so that a growing topic's fast papers lead and its slow ones do not pass
    with it (x0.5 at the bottom, x1.5 at the top); NaN without either."""
    return growth * (0.5 + position)


def pairing_novelty(topic_ids: pd.Series, topic_scores: pd.Series, venues: pd.Series) -> np.ndarray:
    """Originality: how atypical a work's combination of topics, and of topics and venue,
    is (after Uzzi et al. 2013 and Wang, Veugelers & Stephan 2017, on the work's OpenAlex
    topics and its journal rather than its references' journals).

    A work's items are its topics (weighted by their OpenAlex scores) and its journal
    (``venues``, weight 1). For items ``i``, ``j`` of one work: ``PMI = log2(n_ij * N /
    (n_i * n_j))`` over the ``N`` works given (the harvest), ``n_i`` the works having item
    ``i``, ``n_ij`` those having both (a work's topics are distinct, as OpenAlex lists
    them). The work's value is the mean of ``-PMI`` over its item pairs weighted by
    ``weight_i * weight_j``: high for topics rarely seen together or rarely in that journal.
    NaN for a work with fewer than two items (no topic, or neither a second topic nor a
    journal: no combination, no evidence).
    """
    ids = arrow_column(topic_ids, pa.list_(pa.string()))
    scores = arrow_column(topic_scores, pa.list_(pa.float64()))
    count = len(ids)
    result = np.full(count, np.nan)
    topic_owner = pc.list_parent_indices(ids).to_numpy()
    topic_codes = pc.dictionary_encode(pc.list_flatten(ids))
    topic_values = topic_codes.indices.to_numpy(zero_copy_only=False).astype("int64")
    topic_weights = pc.list_flatten(scores).to_numpy(zero_copy_only=False).astype(float)
    if len(topic_weights) != len(topic_values):  # scores missing or misaligned: equal weights
        topic_weights = np.ones(len(topic_values))
    venue_codes = pd.factorize(venues.to_numpy(dtype=object, na_value=None))[0]  # -1: no venue
    has_venue = np.flatnonzero((venue_codes >= 0) & (np.bincount(topic_owner, minlength=count) > 0))
    owner = np.concatenate([topic_owner, has_venue])
    if count == 0 or len(owner) == 0:
        return result
    # Topic and journal codes in one space: journals after the topics.
    items = np.concatenate([topic_values, len(topic_codes.dictionary) + venue_codes[has_venue]])
    weights = np.nan_to_num(np.concatenate([topic_weights, np.ones(len(has_venue))]), nan=0.0)
    order = np.argsort(owner, kind="stable")
    owner, items, weights = owner[order], items[order], weights[order]
    codes, _ = pd.factorize(items)
    items_per_work = np.bincount(owner, minlength=count)
    start = np.r_[0, np.cumsum(items_per_work)][:-1]
    position = np.arange(len(owner)) - start[owner]
    works_total = float(np.count_nonzero(items_per_work))
    item_count = np.bincount(codes, minlength=codes.max() + 1).astype(float)
    most = int(items_per_work.max())
    pairs = [(np.flatnonzero((position == a) & (items_per_work[owner] > b)), a, b)
             for a in range(most) for b in range(a + 1, most)]
    first = np.concatenate([rows for rows, _, _ in pairs]) if pairs else np.empty(0, dtype="int64")
    if len(first) == 0:
        return result
    second = np.concatenate([start[owner[rows]] + b for rows, _, b in pairs])
    low = np.minimum(codes[first], codes[second]).astype("int64")
    high = np.maximum(codes[first], codes[second]).astype("int64")
    pair_index, unique_pairs = pd.factorize(low * (codes.max() + 1) + high)
    pair_count = np.bincount(pair_index, minlength=len(unique_pairs)).astype(float)  # works having the pair
    pmi = np.log2(pair_count[pair_index] * works_total / (item_count[low] * item_count[high]))
    pair_owner = owner[first]
    weight = weights[first] * weights[second]
    weighted = np.bincount(pair_owner, weights=-pmi * weight, minlength=count)
    weight_sum = np.bincount(pair_owner, weights=weight, minlength=count)
    plain = np.bincount(pair_owner, weights=-pmi, minlength=count)
    pair_total = np.bincount(pair_owner, minlength=count)
    valued = pair_total > 0
    safe_sum = np.where(weight_sum > 0, weight_sum, 1.0)
    result[valued] = np.where(weight_sum > 0, weighted / safe_sum, plain / np.maximum(pair_total, 1))[valued]
    return result
