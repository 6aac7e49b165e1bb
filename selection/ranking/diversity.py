"""Topic diversity of a candidate list: the seat cap per topic (or text cluster) and the
TF-IDF clustering of titles and abstracts on the top of each list.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from threadpoolctl import threadpool_limits

# Latin words of three or more characters, or runs of CJK ideographs (split into bigrams).
_TOKEN = re.compile(r"[a-z][a-z0-9\-]{2,}|[\u3400-\u4dbf\u4e00-\u9fff]+")
_KMEANS_STARTS = 1  # one k-means++ start: the clusters describe the list, they need not be optimal
LABEL_TERMS = 3


def cap_seats(quota: int, cap_share: float) -> int:
    """Seats one topic may take in a list of ``quota``: ``floor(cap_share * quota)``, at least 1."""
    return max(1, math.floor(cap_share * quota + 1e-9))


def capped_selection(
    list_keys: pd.Series, units: pd.Series, quota: int, cap_share: float, cap: int | None = None
) -> np.ndarray:
    """Which rows fill the ``quota`` seats of their list, no unit above its cap while others remain.

    Rows must come in preference order inside each list (best first); lists may be
    interleaved. First pass: walk the list, skipping a row whose unit already holds ``cap``
    seats (default ``cap_seats(quota, cap_share)``), until the quota is full. Second pass,
    only when the first left seats empty because every remaining row belongs to a full
    unit: fill them in preference order. A thin list takes every row. (``seat_numbers`` is
    the same walk on numpy codes; the stability bootstrap repeats it every round.)
    """
    list_codes = pd.factorize(list_keys.to_numpy())[0]
    unit_codes = pd.factorize(units.to_numpy(), use_na_sentinel=False)[0]
    grouped = np.argsort(list_codes, kind="stable")  # lists contiguous, preference order kept
    seats = np.empty(len(list_codes), dtype="int64")
    seats[grouped] = seat_numbers(
        list_codes[grouped], unit_codes[grouped], quota, cap_seats(quota, cap_share) if cap is None else cap
    )
    return seats > 0


def walk_order(
    list_code: np.ndarray, priority: np.ndarray, score: np.ndarray, is_review: np.ndarray, tie: np.ndarray,
    review_cap: int,
) -> np.ndarray:
    """The order in which a list's seats are offered: reviews beyond the first
    ``review_cap`` of their list last, then priority works, then by score, ties by ``tie``."""
    first = np.lexsort((tie, -score, ~priority, list_code))
    review = is_review[first]
    list_sorted = list_code[first]
    reviews_before = np.cumsum(review) - review
    list_start = np.r_[0, np.flatnonzero(list_sorted[1:] != list_sorted[:-1]) + 1]
    starts = np.repeat(list_start, np.diff(np.r_[list_start, len(first)]))
    position_among_reviews = reviews_before - (np.cumsum(review) - review)[starts]
    over_cap = np.zeros(len(list_code), dtype=bool)
    over_cap[first] = review & (position_among_reviews >= review_cap)
    return np.lexsort((tie, -score, ~priority, over_cap, list_code))


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """For rows sorted so that equal codes are contiguous: the index of each row's run start."""
    new_run = np.ones(len(codes), dtype=bool)
    new_run[1:] = codes[1:] != codes[:-1]
    starts = np.flatnonzero(new_run)
    return starts[np.cumsum(new_run) - 1]


def _running_sum(values: np.ndarray, run_start: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum of ``values`` restarting at every run."""
    total = np.cumsum(values, dtype="int64")
    before = np.concatenate(([0], total))[run_start]
    return total - before


def seat_numbers(list_codes: np.ndarray, unit_codes: np.ndarray, quota: int, cap: int) -> np.ndarray:
    """The capped walk of ``capped_selection`` on integer codes: each row's seat number in
    its list (1 = the first seated row in preference order), 0 for a row without a seat.

    Rows must be grouped by list (each list contiguous) and in preference order inside it;
    ``unit_codes`` are non-negative integers. At most ``cap`` seats per unit in the first
    pass, ``quota`` seats per list.
    """
    count = len(list_codes)
    if count == 0:
        return np.zeros(0, dtype="int64")
    list_start = _run_starts(list_codes)
    list_index = np.cumsum(np.concatenate(([True], list_codes[1:] != list_codes[:-1]))) - 1
    unit_key = list_index.astype("int64") * (int(unit_codes.max()) + 1) + unit_codes
    by_unit = np.argsort(unit_key, kind="stable")
    unit_position = np.empty(count, dtype="int64")
    unit_position[by_unit] = np.arange(count) - _run_starts(unit_key[by_unit])
    within_cap = unit_position < cap
    selected = within_cap & (_running_sum(within_cap, list_start) <= quota)
    list_end = np.concatenate((list_start[1:] != list_start[:-1], [True]))  # last row of each list
    taken = _running_sum(selected, list_start)
    seats_left = quota - np.repeat(taken[list_end], np.diff(np.concatenate(([0], np.flatnonzero(list_end) + 1))))
    selected |= ~selected & (_running_sum(~selected, list_start) <= seats_left)
    return np.where(selected, _running_sum(selected, list_start), 0)


def tokenize(text: str) -> list[str]:
    """Tokens for TF-IDF: English words without stop words, Chinese as character bigrams."""
    tokens = []
    for match in _TOKEN.findall(text.lower()):
        if match[0].isascii():
            if match not in ENGLISH_STOP_WORDS:
                tokens.append(match)
        elif len(match) == 1:
            tokens.append(match)
        else:
            tokens.extend(match[i : i + 2] for i in range(len(match) - 1))
    return tokens


def cluster_texts(
    fit_texts: list[str], other_texts: list[str], max_clusters: int, max_features: int, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """K-means clusters of TF-IDF vectors of ``fit_texts``; ``other_texts`` go to the nearest centre.

    ``k = min(max_clusters, ceil(sqrt(n / 2)))`` for ``n`` fitted texts. Clusters are
    numbered from 1 in order of first appearance in ``fit_texts`` (so cluster 1 holds the
    first text), which keeps the numbering stable for a given input. Returns the labels of
    both lists and a label -> "term, term, term" description (the heaviest centre terms).
    """
    cluster_count = min(max_clusters, math.ceil(math.sqrt(len(fit_texts) / 2)), len(fit_texts))
    vectorizer = TfidfVectorizer(
        analyzer=tokenize, max_features=max_features, sublinear_tf=True, min_df=1, dtype=np.float32
    )
    try:
        fit_matrix = vectorizer.fit_transform(fit_texts)
    except ValueError:  # no text at all: one cluster without terms
        return np.ones(len(fit_texts), dtype="int64"), np.ones(len(other_texts), dtype="int64"), {1: ""}
    vocabulary = vectorizer.get_feature_names_out()
    if cluster_count < 2:  # too few texts to split: one cluster described by the mean vector
        centre = np.asarray(fit_matrix.mean(axis=0)).ravel()
        return (
            np.ones(len(fit_texts), dtype="int64"), np.ones(len(other_texts), dtype="int64"),
            {1: _heaviest_terms(centre, vocabulary)},
        )
    model = KMeans(n_clusters=cluster_count, n_init=_KMEANS_STARTS, random_state=seed)
    # A list is small (about a thousand texts): one thread on a dense matrix is fastest, and
    # the OpenMP pool waking for every list would cost more than the clustering itself.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct texts than clusters
        raw_fit = model.fit_predict(fit_matrix.toarray())
        raw_other = (
            model.predict(vectorizer.transform(other_texts).toarray()) if other_texts else np.empty(0, dtype="int64")
        )
    first_seen = pd.unique(raw_fit)
    renumber = np.zeros(cluster_count, dtype="int64")
    renumber[first_seen] = np.arange(1, len(first_seen) + 1)
    unused = np.setdiff1d(np.arange(cluster_count), first_seen)
    renumber[unused] = np.arange(len(first_seen) + 1, cluster_count + 1)
    descriptions = {
        int(renumber[raw]): _heaviest_terms(centre, vocabulary) for raw, centre in enumerate(model.cluster_centers_)
    }
    return renumber[raw_fit], renumber[raw_other], descriptions


def _heaviest_terms(centre: np.ndarray, vocabulary: np.ndarray) -> str:
    return ", ".join(vocabulary[np.argsort(-centre, kind="stable")[:LABEL_TERMS]])


def work_text(titles: pd.Series, abstracts: pd.Series) -> list[str]:
    """Title and abstract of each work as one string (missing parts left out)."""
    return (titles.fillna("").astype(str) + " " + abstracts.fillna("").astype(str)).tolist()
