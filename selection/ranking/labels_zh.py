"""The Chinese names the workbook and the charts show for codes of the ranking."""

from __future__ import annotations

from selection.disciplines import DisciplineMap

GROUP_NAMES_ZH = {"domestic": "国内期刊", "international": "国际期刊"}
INDICATOR_NAMES_ZH = {"influence": "国际影响力", "hot": "热度", "frontier": "前沿性", "originality": "原创性"}
STABILITY_NAMES_ZH = {"secure": "稳定", "borderline": "临界"}
TYPE_NAMES_ZH = {"article": "论文", "review": "综述"}
# What an indicator's value compares with: a local rank must never read as a world rank.
BASELINE_NAMES_ZH = {
    "world": "全球同领域同年份论文",
    "national": "全国中文/国内期刊同领域同年份论文",
    "beijing": "北京论文（本分层内）",
    "harvest": "本次采集的北京论文",
}
ADMISSION_NAMES_ZH = {
    "world_top_1pct": "全球前1%论文（优先入选）",
    "national_top_1pct": "国内期刊全国前1%论文（优先入选）",
    "gate": "达到门槛",
}
STRATUM_LEVEL_NAMES_ZH = {
    "subfield": "子领域-年份",
    "field": "领域-年份（子领域论文过少，向上合并）",
    "discipline": "学科-年份（领域论文过少，向上合并）",
    "all_disciplines": "全部学科-年份（学科论文过少，向上合并）",
}
# What 达到门槛 (the eligibility gate) means, for every reader of the lists.
GATE_TEXT_ZH = (
    "达到门槛：在同一分层（{level}，{group}，{track}）的北京论文中，国际影响力、热度或前沿性"
    "至少一项位于前 {share}；原创性不能单独达到门槛。"
)


def discipline_name_zh(disciplines: DisciplineMap, key: str) -> str:
    """The discipline's Chinese name, or its key when the mapping does not know it."""
    return disciplines.get(key).name_zh if key in disciplines else key
