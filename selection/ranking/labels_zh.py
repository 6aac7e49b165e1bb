"""The Chinese names the workbook and the charts show for codes of the ranking."""

from __future__ import annotations

from selection.disciplines import DisciplineMap

GROUP_NAMES_ZH = {"domestic": "国内期刊", "international": "国际期刊"}
INDICATOR_NAMES_ZH = {"influence": "国际影响力", "hot": "热度", "frontier": "前沿性", "originality": "原创性"}
STABILITY_NAMES_ZH = {"secure": "稳定", "borderline": "临界"}
TYPE_NAMES_ZH = {"article": "论文", "review": "综述"}


def discipline_name_zh(disciplines: DisciplineMap, key: str) -> str:
    """The discipline's Chinese name, or its key when the mapping does not know it."""
    return disciplines.get(key).name_zh if key in disciplines else key
