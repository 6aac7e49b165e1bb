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


def international_share(countries: pd.Series) -> np.ndarray:
    """Share of a work's distinct author countries that are not China (0 when none are listed)."""
    lists = arrow_column(countries, pa.list_(pa.string()))
    flat = pc.list_flatten(lists)
    owner = pc.list_parent_indices(lists).to_numpy()
    foreign = pc.fill_null(pc.not_equal(flat, HOME_COUNTRY), False).to_numpy(zero_copy_only=False)
    foreign_count = np.bincount(owner, weights=foreign, minlength=len(lists))
    listed_count = np.bincount(owner, minlength=len(lists))
    return np.divide(foreign_count, listed_count, out=np.zeros(len(lists)), where=listed_count > 0)


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


def influence_values(citation: np.ndarray, international: np.ndarray, citation_part: float) -> np.ndarray:
    """International influence: ``citation_part * citation + (1 - citation_part) * international``.

    NaN where the citation component is missing: co-authorship alone is no evidence of influence.
    """
    return citation_part * citation + (1 - citation_part) * international


def topic_year_rates(
    topic_ids: pd.Series, years: pd.Series, last_year: int, last_year_fraction: float,
    current_year_weight: float, earlier_years: int,
) -> pd.DataFrame:
    """Per topic: works per year in the recent window and in the earlier window.

    Recent: the year before ``last_year`` (the window's last year) counts 1, ``last_year``
    itself ``current_year_weight`` times, its count divided by ``last_year_fraction`` (the
    elapsed share of it on the as-of date, 1 when it is complete); the rate is their
    weighted mean. Earlier: the mean over the ``earlier_years`` (1 to 3) years before the
    recent window; the ranking passes as many as its window holds. Works without a topic or
    a year do not count. Indexed by topic id.
    """
    frame = pd.DataFrame(
        {"topic": topic_ids.to_numpy(dtype=object, na_value=None),
         "year": years.to_numpy(dtype=float, na_value=np.nan)}
    ).dropna()
    counts = frame.groupby(["topic", frame["year"].astype("int64")]).size().unstack(fill_value=0)

    def column(offset: int) -> pd.Series:
        return counts.get(last_year - offset, pd.Series(0, index=counts.index))

    current = column(0) / last_year_fraction
    recent = (column(1) + current_year_weight * current) / (1 + current_year_weight)
    earlier = sum(column(RECENT_YEARS + offset) for offset in range(earlier_years)) / earlier_years
    total = counts.sum(axis=1)
    recent_share = (column(0) + column(1)) / total
    return pd.DataFrame({"recent_rate": recent, "earlier_rate": earlier, "recent_share": recent_share})


def frontier_values(topic_ids: pd.Series, rates: pd.DataFrame, smoothing: float) -> np.ndarray:
    """Growth of each work's topic: ``(recent rate + s) / (earlier rate + s)``; NaN without a topic."""
    growth = (rates["recent_rate"] + smoothing) / (rates["earlier_rate"] + smoothing)
    return topic_ids.map(growth).to_numpy(dtype=float, na_value=np.nan)


def originality_values(
    lead_in_beijing: np.ndarray, is_article: np.ndarray, topic_ids: pd.Series, rates: pd.DataFrame,
    parts: dict[str, float],
) -> np.ndarray:
    """The originality proxy: a weighted mean of lead authorship in Beijing (first or
    corresponding author), article rather than review, and topic novelty (the share of the
    topic's harvested works from the last two years; 0 without a topic)."""
    novelty = topic_ids.map(rates["recent_share"]).to_numpy(dtype=float, na_value=np.nan)
    novelty = np.nan_to_num(novelty)
    total = sum(parts.values())
    return (
        parts["lead_author_in_beijing"] * lead_in_beijing.astype(float)
        + parts["article_not_review"] * is_article.astype(float)
        + parts["topic_novelty"] * novelty
    ) / total
