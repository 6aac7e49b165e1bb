"""Two rankings side by side: per list (discipline x journal group) the works that entered,
that left and that stayed, and why; the settings that differ; both funnels; the numbers of
the comparison charts. Pure: tables and dicts in, dataclasses out (no Flask).

A work's score is ``sum(weight x percentile)`` over the four indicators, and a percentile
does not depend on the weights (docs/selection-method.md §4). So a work seated in only one
ranking also gets its score under the other ranking's weights (``score_in_other``): exact
when both rank the same works with the same universe rules, an estimate otherwise.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from selection.ranking.diversity import cap_seats
from selection.schema import INDICATORS

ENTERED, LEFT, STAYED = "entered", "left", "stayed"

# Why a work is seated in one ranking only, checked in this order (codes; the pages say them).
NOT_ELIGIBLE = "not_eligible"  # the other list seated every work it could: this one was not eligible there
SEATS = "seats"  # the quota changed and its rank lies between the two quotas
TOPIC_CAP = "topic_cap"  # seated over the topic cap, or its topic had all its seats in the other list
WEIGHTS = "weights"  # under the other ranking's weights it scores below that list's last seat
REVIEW_SEATS = "review_seats"  # a review, and the other list's reviews held all the seats they may
PUSHED = "pushed"  # other works took the seats (priority seats, ties, a changed universe)
REASONS = (NOT_ELIGIBLE, SEATS, TOPIC_CAP, WEIGHTS, REVIEW_SEATS, PUSHED)

CANDIDATE_COLUMNS = ("work_id", "discipline", "journal_group", "rank", "score", "score_parts", "over_topic_cap",
                     "topic_id", "title", "admission", "track")
SCORE_BINS = 20  # the score histogram: bins of 0.05 on [0, 1]
TOP_TOPICS = 12


@dataclass(frozen=True)
class Seat:
    """One work's seat in one ranking's list."""

    rank: int
    score: float
    percentiles: dict[str, float]  # indicator -> percentile in its stratum (0 without a value)
    contributions: dict[str, float]  # indicator -> weight x percentile
    over_topic_cap: bool
    admission: str | None
    is_review: bool = False


@dataclass(frozen=True)
class WorkChange:
    """A work of a list in either ranking: ``a`` and ``b`` are its seats (None where it has none)."""

    work_id: str
    title: str
    topic_id: str | None
    status: str  # ENTERED (in b only), LEFT (in a only), STAYED
    a: Seat | None
    b: Seat | None
    score_in_other: float | None  # entered: its score under a's weights; left: under b's
    reason: str | None  # one of REASONS for a work that entered or left

    @property
    def rank_change(self) -> int | None:
        """Places gained from a to b (positive: moved up), for a work seated in both."""
        return self.a.rank - self.b.rank if self.a and self.b else None


@dataclass(frozen=True)
class ListComparison:
    discipline: str
    journal_group: str
    quota_a: int | None
    quota_b: int | None
    selected_a: int
    selected_b: int
    cutoff_a: float | None  # the lowest seated score (None for an empty list)
    cutoff_b: float | None
    entered: tuple[WorkChange, ...]
    left: tuple[WorkChange, ...]
    stayed: tuple[WorkChange, ...]  # largest rank change first

    @property
    def moved(self) -> int:
        """Works seated in both whose rank changed."""
        return sum(change.rank_change != 0 for change in self.stayed)


@dataclass(frozen=True)
class SettingChange:
    key: str  # "weights.hot", "per_group", "discipline_weights.mathematics.hot"
    a: Any
    b: Any


@dataclass(frozen=True)
class FunnelStep:
    step: str
    a: int | None
    b: int | None


@dataclass(frozen=True)
class Comparison:
    settings_changes: tuple[SettingChange, ...]
    funnel: tuple[FunnelStep, ...]
    lists: tuple[ListComparison, ...]  # lists with any seat in either ranking, in a's order then b's

    def count(self, status: str) -> int:
        return sum(len(getattr(entry, status)) for entry in self.lists)


def flat_settings(settings: dict, prefix: str = "") -> dict[str, Any]:
    """``summary.json``'s settings with nested tables as dotted keys (lists as tuples)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{name}."))
        else:
            flat[name] = tuple(value) if isinstance(value, list) else value
    return flat


def settings_changes(a: dict, b: dict) -> tuple[SettingChange, ...]:
    """Every setting whose value differs, in a's order then b's new keys."""
    flat_a, flat_b = flat_settings(a), flat_settings(b)
    keys = list(flat_a) + [key for key in flat_b if key not in flat_a]
    return tuple(SettingChange(key, flat_a.get(key), flat_b.get(key)) for key in keys
                 if flat_a.get(key) != flat_b.get(key))


def discipline_weights(settings: dict, discipline: str) -> dict[str, float]:
    """The normalised weights of a discipline, as ``RankSettings.weights_for`` computes them."""
    merged = {**(settings.get("weights") or {}), **(settings.get("discipline_weights") or {}).get(discipline, {})}
    total = sum(merged.get(name, 0.0) for name in INDICATORS)
    return {name: (merged.get(name, 0.0) / total if total > 0 else 0.0) for name in INDICATORS}


def _seat(row: dict) -> Seat:
    parts = {part["indicator"]: part for part in row["score_parts"] or []}
    percentiles = {name: float(parts[name]["percentile"]) if name in parts and parts[name]["has_value"] else 0.0
                   for name in INDICATORS}
    contributions = {name: float(parts[name]["contribution"]) if name in parts else 0.0 for name in INDICATORS}
    return Seat(int(row["rank"]), float(row["score"]), percentiles, contributions, bool(row["over_topic_cap"]),
                row.get("admission"), row.get("track") == "review")


def _rows_by_list(table: pa.Table) -> dict[tuple[str, str], dict[str, dict]]:
    columns = [name for name in CANDIDATE_COLUMNS if name in table.column_names]
    lists: dict[tuple[str, str], dict[str, dict]] = {}
    for row in table.select(columns).to_pylist():
        lists.setdefault((row["discipline"], row["journal_group"]), {})[row["work_id"]] = row
    return lists


def _summary_lists(summary: dict) -> dict[tuple[str, str], dict]:
    return {(entry["discipline"], entry["journal_group"]): entry for entry in summary.get("lists") or []}


def _score_with(seat: Seat, weights: dict[str, float]) -> float:
    return sum(weights[name] * seat.percentiles[name] for name in INDICATORS)


@dataclass(frozen=True)
class _Side:
    """One ranking's view of one list, for judging a work seated only in the other."""

    rows: dict[str, dict]
    settings: dict
    quota: int | None
    cutoff: float | None
    topics: Counter
    reviews: int

    @property
    def full(self) -> bool:
        return self.quota is not None and len(self.rows) >= self.quota

    def topic_full(self, topic_id: str | None) -> bool:
        if topic_id is None or self.quota is None:
            return False
        return self.topics[topic_id] >= cap_seats(self.quota, float(self.settings.get("topic_cap_share") or 1.0))

    @property
    def review_seats_full(self) -> bool:
        if self.quota is None:
            return False
        return self.reviews >= cap_seats(self.quota, float(self.settings.get("review_seat_share") or 1.0))


def _side(rows: dict[str, dict], settings: dict, entry: dict | None) -> _Side:
    quota = entry.get("quota") if entry else settings.get("per_group")
    cutoff = min((float(row["score"]) for row in rows.values()), default=None)
    return _Side(rows, settings, quota, cutoff, Counter(row["topic_id"] for row in rows.values() if row["topic_id"]),
                 sum(row.get("track") == "review" for row in rows.values()))


def _reason(seat: Seat, topic_id: str | None, own: _Side, other: _Side, weights_differ: bool,
            score_in_other: float) -> str:
    """Why a work seated in ``own`` has no seat in ``other``."""
    if not other.full:
        return NOT_ELIGIBLE
    if own.quota is not None and other.quota is not None and own.quota > other.quota and seat.rank > other.quota:
        return SEATS
    if seat.over_topic_cap or other.topic_full(topic_id):
        return TOPIC_CAP
    if weights_differ and other.cutoff is not None and score_in_other < other.cutoff:
        return WEIGHTS
    if seat.is_review and other.review_seats_full:
        return REVIEW_SEATS
    return PUSHED


def compare_lists(key: tuple[str, str], rows_a: dict[str, dict], rows_b: dict[str, dict], settings_a: dict,
                  settings_b: dict, entry_a: dict | None = None, entry_b: dict | None = None) -> ListComparison:
    """One list of both rankings: ``rows_*`` map work id -> candidates row (``CANDIDATE_COLUMNS``);
    ``entry_*`` are the list's rows of summary.json's ``lists`` (pool, quota, selected)."""
    discipline, group = key
    side_a, side_b = _side(rows_a, settings_a, entry_a), _side(rows_b, settings_b, entry_b)
    weights_a, weights_b = discipline_weights(settings_a, discipline), discipline_weights(settings_b, discipline)
    weights_differ = any(not math.isclose(weights_a[name], weights_b[name], abs_tol=1e-9) for name in INDICATORS)
    entered, left, stayed = [], [], []
    for work_id, row in rows_b.items():
        seat_b = _seat(row)
        if work_id in rows_a:
            stayed.append(WorkChange(work_id, row["title"] or "", row["topic_id"], STAYED, _seat(rows_a[work_id]),
                                     seat_b, None, None))
            continue
        other_score = _score_with(seat_b, weights_a)
        reason = _reason(seat_b, row["topic_id"], side_b, side_a, weights_differ, other_score)
        entered.append(WorkChange(work_id, row["title"] or "", row["topic_id"], ENTERED, None, seat_b, other_score,
                                  reason))
    for work_id, row in rows_a.items():
        if work_id in rows_b:
            continue
        seat_a = _seat(row)
        other_score = _score_with(seat_a, weights_b)
        reason = _reason(seat_a, row["topic_id"], side_a, side_b, weights_differ, other_score)
        left.append(WorkChange(work_id, row["title"] or "", row["topic_id"], LEFT, seat_a, None, other_score, reason))
    entered.sort(key=lambda change: change.b.rank)
    left.sort(key=lambda change: change.a.rank)
    stayed.sort(key=lambda change: (-abs(change.rank_change), change.b.rank))
    return ListComparison(discipline, group, side_a.quota, side_b.quota, len(rows_a), len(rows_b), side_a.cutoff,
                          side_b.cutoff, tuple(entered), tuple(left), tuple(stayed))


def funnel_steps(funnel_a: dict, funnel_b: dict) -> tuple[FunnelStep, ...]:
    """The steps of both funnels in order: a's, with each step only b has after b's step before it."""
    steps = list(funnel_a)
    previous = None
    for step in funnel_b:
        if step not in steps:
            steps.insert(steps.index(previous) + 1 if previous is not None else 0, step)
        previous = step
    return tuple(FunnelStep(step, funnel_a.get(step), funnel_b.get(step)) for step in steps)


def compare(table_a: pa.Table, summary_a: dict, table_b: pa.Table, summary_b: dict) -> Comparison:
    """Ranking b against ranking a: their candidates tables and summary.json documents."""
    settings_a, settings_b = summary_a.get("settings") or {}, summary_b.get("settings") or {}
    rows_a, rows_b = _rows_by_list(table_a), _rows_by_list(table_b)
    entries_a, entries_b = _summary_lists(summary_a), _summary_lists(summary_b)
    keys = list(dict.fromkeys([*entries_a, *rows_a, *entries_b, *rows_b]))
    lists = tuple(
        compare_lists(key, rows_a.get(key, {}), rows_b.get(key, {}), settings_a, settings_b, entries_a.get(key),
                      entries_b.get(key))
        for key in keys if rows_a.get(key) or rows_b.get(key)
    )
    funnel = funnel_steps(ranking_funnel(summary_a), ranking_funnel(summary_b))
    return Comparison(settings_changes(settings_a, settings_b), funnel, lists)


def ranking_funnel(summary: dict) -> dict[str, int]:
    """summary.json's funnel ending in its candidates; the author rule's step as ``author_rule``
    whichever rule it applied (the rule itself is a setting)."""
    steps = {("author_rule" if step.startswith("author_rule_") else step): count
             for step, count in (summary.get("funnel") or {}).items()}
    return {**steps, "candidates": summary.get("candidates")}


def score_histogram(table: pa.Table, bins: int = SCORE_BINS) -> list[int]:
    """Candidates per score bin of width 1/bins on [0, 1] (a score of 1 falls in the last bin)."""
    counts = [0] * bins
    for score in table.column("score").to_pylist():
        if score is not None and math.isfinite(score):
            counts[min(bins - 1, max(0, int(score * bins)))] += 1
    return counts


def topic_shares(table_a: pa.Table, table_b: pa.Table, top: int = TOP_TOPICS) -> list[tuple[str, str, float, float]]:
    """The ``top`` topics with the most seats in either ranking: (topic id, its name, share of
    a's seats, share of b's seats), largest first."""
    counts_a = Counter(topic for topic in table_a.column("topic_id").to_pylist() if topic)
    counts_b = Counter(topic for topic in table_b.column("topic_id").to_pylist() if topic)
    names = {**topic_names(table_b), **topic_names(table_a)}
    total_a, total_b = max(1, table_a.num_rows), max(1, table_b.num_rows)
    topics = sorted(set(counts_a) | set(counts_b), key=lambda topic: (-max(counts_a[topic], counts_b[topic]), topic))
    return [(topic, names.get(topic, topic), counts_a[topic] / total_a, counts_b[topic] / total_b)
            for topic in topics[:top]]


def topic_names(table: pa.Table) -> dict[str, str]:
    """Topic id -> its name (``topic_names`` holds the primary topic's first) where the table has them."""
    if "topic_names" not in table.column_names:
        return {}
    return {topic: names[0] for topic, names in zip(table.column("topic_id").to_pylist(),
                                                     table.column("topic_names").to_pylist()) if topic and names}
