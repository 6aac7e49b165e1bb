"""Why a candidate has its score, as data rather than prose.

``score = sum of weight x percentile`` over the indicators (docs/selection-method.md §4).
The ranking stores one part per indicator in the ``score_parts`` column of
candidates.parquet: codes and numbers only, so the workbook renders them in Chinese
(``selection.ranking.report``) and the web app through its catalogs in Chinese or
English. ``explain(row)`` turns a candidates row back into a ``ScoreExplanation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from selection.schema import INDICATORS, SCORE_PARTS_TYPE


@dataclass(frozen=True)
class IndicatorPart:
    """One indicator's share of a score.

    ``indicator``: its code (``selection.schema.INDICATORS``). ``weight``: its normalised
    weight for the discipline. ``value``: the raw indicator value, None without data.
    ``has_value``: whether there was data (without it the percentile is 0: no evidence,
    no credit). ``percentile``: the mid-rank percentile in the stratum (subfield x year x
    journal group). ``top_share``: ``1 - percentile``, "top x of the stratum".
    ``valued_works``: the works of the stratum with a value, among which the percentile
    was taken. ``contribution``: ``weight x percentile``. ``baseline``: what the value
    itself compares with ("world", "national", "beijing", "harvest").
    """

    indicator: str
    weight: float
    value: float | None
    has_value: bool
    percentile: float
    top_share: float
    valued_works: int
    contribution: float
    baseline: str | None = None  # selection.schema.BASELINES


@dataclass(frozen=True)
class ScoreExplanation:
    """A candidate's score and its parts, with the stratum it was compared in.

    ``stratum_works``: the ranked works of its subfield x year x journal group stratum.
    ``over_topic_cap``: it took a seat only because no eligible work of another topic was
    left (docs/selection-method.md §5).
    """

    score: float
    journal_group: str
    stratum_works: int
    over_topic_cap: bool
    parts: tuple[IndicatorPart, ...]
    admission: str | None = None  # selection.schema.ADMISSIONS
    stratum_level: str | None = None  # selection.schema.STRATUM_LEVELS


def score_parts_column(
    values: np.ndarray, percentiles: np.ndarray, weights: np.ndarray, valued_works: np.ndarray,
    baselines: np.ndarray,
) -> pa.ListArray:
    """The ``score_parts`` column: per candidate one part per indicator, in INDICATORS order.

    Each argument has one row per candidate and one column per indicator (``values`` NaN
    where there is no data; ``baselines`` BASELINES codes).
    """
    count, width = values.shape
    has_value = ~np.isnan(values)
    children = {
        "indicator": pa.array(np.tile(np.array(INDICATORS, dtype=object), count), pa.string()),
        "weight": pa.array(weights.ravel(), pa.float64()),
        "value": pa.array(values.ravel(), pa.float64(), from_pandas=True),
        "has_value": pa.array(has_value.ravel()),
        "percentile": pa.array(percentiles.ravel(), pa.float64()),
        "top_share": pa.array(np.maximum(0.0, 1.0 - percentiles).ravel(), pa.float64()),
        "valued_works": pa.array(valued_works.ravel(), pa.int32()),
        "contribution": pa.array((weights * percentiles).ravel(), pa.float64()),
        "baseline": pa.array(baselines.ravel(), pa.string()),
    }
    part_type = SCORE_PARTS_TYPE.value_type
    parts = pa.StructArray.from_arrays([children[field.name] for field in part_type], fields=list(part_type))
    offsets = pa.array(np.arange(0, count * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, parts, type=SCORE_PARTS_TYPE)


_PART_FIELDS = tuple(field.name for field in fields(IndicatorPart))


def explain(row: Mapping) -> ScoreExplanation:
    """The explanation of one candidates row (a dict of ``pyarrow`` ``to_pylist``, a pandas
    row, or any mapping with the candidates columns)."""
    parts = tuple(
        IndicatorPart(**{name: _plain(part[name]) for name in _PART_FIELDS}) for part in row["score_parts"]
    )
    return ScoreExplanation(
        score=float(row["score"]),
        journal_group=str(row["journal_group"]),
        stratum_works=int(row["stratum_works"]),
        over_topic_cap=bool(row["over_topic_cap"]),
        parts=parts,
        admission=_plain(row.get("admission")),
        stratum_level=_plain(row.get("stratum_level")),
    )


def _plain(value):
    """A Python number or text for a value read through pandas or pyarrow (NaN -> None)."""
    if value is None:
        return None
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
