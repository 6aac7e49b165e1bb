"""The structured score explanation: parts stored in candidates.parquet, read back by
``explain``, rendered in Chinese for the workbook."""

from __future__ import annotations

import math
from dataclasses import replace

import pyarrow as pa
import pytest

from selection.ranking.explain import IndicatorPart, ScoreExplanation, explain
from selection.ranking.rank import rank_works
from selection.ranking.report import explanation_text_zh
from selection.ranking.settings import load_rank_settings
from selection.schema import CANDIDATES_SCHEMA, INDICATORS
from tests.selection.rank_helpers import work, works_frame_of


@pytest.fixture(scope="module")
def ranked():
    """One stratum of 2,000 works; every fifth has no citation percentile, FWCI or citation
    count, so no influence value, but is cited recently (eligible through the hot indicator)."""
    rows = [work(i, citation_normalized_percentile=i / 2000) for i in range(1, 2001)]
    for row in rows[::5]:
        row.update(citation_normalized_percentile=None, fwci=None, cited_by_count=None,
                   counts_by_year=[{"year": 2024, "cited_by_count": 10 + int(row["work_id"][1:])}])
    settings = load_rank_settings().with_overrides(per_group=200, bootstrap_rounds=5, author_rule="any")
    return rank_works(works_frame_of(rows), settings)


def test_the_parts_are_the_columns_beside_them_and_add_up_to_the_score(ranked):
    candidates = ranked.candidates
    assert len(candidates) == 200
    for row in candidates.to_dict("records"):
        explanation = explain(row)
        assert [part.indicator for part in explanation.parts] == list(INDICATORS)
        assert math.isclose(sum(part.contribution for part in explanation.parts), row["score"], abs_tol=1e-12)
        for part in explanation.parts:
            name = part.indicator
            assert part.weight == row[f"{name}_weight"] and part.percentile == row[f"{name}_percentile"]
            assert part.has_value == (not math.isnan(row[f"{name}_value"]))
            assert part.top_share == pytest.approx(1 - part.percentile)
            assert part.contribution == pytest.approx(part.weight * part.percentile)
        assert explanation.stratum_works == row["stratum_works"] == 2000


def test_a_missing_value_earns_nothing_and_the_stratum_counts_only_valued_works(ranked):
    candidates = ranked.candidates
    missing = candidates.loc[candidates["influence_value"].isna()]
    assert len(missing) > 0  # seated on the other indicators
    influence = explain(missing.iloc[0].to_dict()).parts[0]
    assert influence == IndicatorPart("influence", influence.weight, None, False, 0.0, 1.0, 1600, 0.0, "beijing")
    valued = explain(candidates.loc[candidates["influence_value"].notna()].iloc[0].to_dict()).parts
    assert valued[0].valued_works == 1600 and valued[1].valued_works == 2000  # hot: every work has data


def test_parquet_rows_and_pandas_rows_explain_alike(ranked):
    table = pa.Table.from_pandas(ranked.candidates, schema=CANDIDATES_SCHEMA, preserve_index=False)
    from_arrow = [explain(row) for row in table.to_pylist()]
    from_pandas = [explain(row) for row in ranked.candidates.to_dict("records")]
    assert from_arrow == from_pandas


def test_the_chinese_rendering_names_each_standing_and_the_cap():
    parts = (
        IndicatorPart("influence", 0.35, 0.9, True, 0.975, 0.025, 40, 0.34125),
        IndicatorPart("hot", 0.25, None, False, 0.0, 1.0, 12, 0.0),
        IndicatorPart("frontier", 0.2, 1.4, True, 0.5, 0.5, 40, 0.1),
        IndicatorPart("originality", 0.2, 0.7, True, 0.9995, 0.0005, 40, 0.1999),
    )
    explanation = ScoreExplanation(0.64115, "domestic", 40, False, parts)
    text = explanation_text_zh(explanation)
    assert text == (
        "综合得分 0.641 = 0.35×国际影响力 0.975 + 0.25×热度 0.000 + 0.20×前沿性 0.500 + 0.20×原创性 1.000。"
        "在子领域-年份-国内期刊的北京论文（40 篇）中：国际影响力 前 3%；热度 无数据（不计分）；前沿性 前 50%；原创性 前 0.1%。"
    )
    assert explanation_text_zh(replace(explanation, over_topic_cap=True)).endswith("因无其他合格论文而补入。")


def test_the_chinese_rendering_says_what_each_value_compares_with_and_why_the_work_is_in():
    parts = (
        IndicatorPart("influence", 0.35, 0.995, True, 0.975, 0.025, 40, 0.34125, "world"),
        IndicatorPart("hot", 0.25, 3.0, True, 0.5, 0.5, 40, 0.125, "beijing"),
        IndicatorPart("frontier", 0.2, 1.4, True, 0.5, 0.5, 40, 0.1, "world"),
        IndicatorPart("originality", 0.2, 0.7, True, 0.5, 0.5, 40, 0.1, "harvest"),
    )
    explanation = ScoreExplanation(0.66625, "international", 40, False, parts, "world_top_1pct", "field")
    text = explanation_text_zh(explanation)
    assert text.startswith("入选依据：全球前1%论文（优先入选）。")
    assert "国际影响力 前 3%（指标值对照全球同领域同年份论文）" in text
    assert "热度 前 50%（指标值对照北京论文（本分层内））" in text
    assert "在领域-年份（子领域论文过少，向上合并）-国际期刊的北京论文（40 篇）中" in text
