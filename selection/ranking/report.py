"""The files of a ranking run: candidates.parquet, candidates.xlsx (Chinese headers, links,
an explanation per score), summary.json and PNG charts, written as one set (a sibling folder
swapped in whole).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from selection.disciplines import DisciplineMap
from selection.files import file_sha256, replace_folder, write_json
from selection.ranking.charts import write_charts
from selection.ranking.explain import ScoreExplanation, explain
from selection.ranking.labels_zh import (
    ADMISSION_NAMES_ZH,
    BASELINE_NAMES_ZH,
    GATE_TEXT_ZH,
    GROUP_NAMES_ZH,
    INDICATOR_NAMES_ZH,
    STABILITY_NAMES_ZH,
    STRATUM_LEVEL_NAMES_ZH,
    TYPE_NAMES_ZH,
    discipline_name_zh,
)
from selection.ranking.rank import RankResult
from selection.schema import CANDIDATES_FILE, CANDIDATES_SCHEMA, CHART_FILES, INDICATORS, SUMMARY_FILE

CONTENTION_FILE = "contention.txt"  # the work ids python -m selection enrich fetches the citing side of
OUTPUT_FILES = (CANDIDATES_FILE, "candidates.xlsx", SUMMARY_FILE, CONTENTION_FILE, *CHART_FILES)
# Spreadsheet programs read text starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses a string literal longer than this inside a formula.
FORMULA_LITERAL_LIMIT = 255
OUT_OF_LIST_ZH = "名单外"


def top_share_text(top_share: float) -> str:
    """"前 3%"-style reading of a stratum's top share (the share of the stratum at or above a work)."""
    share = max(0.0, top_share) * 100
    if share < 1:
        return f"前 {max(math.ceil(share * 10) / 10, 0.1):.1f}%"
    return f"前 {math.ceil(share - 1e-9)}%"


def explanation_text_zh(explanation: ScoreExplanation) -> str:
    """The workbook's 得分说明: why the work holds a seat, the weighted sum, each indicator's
    standing in its stratum of Beijing papers with what its value compares with, and a note
    when the work was seated over the topic cap."""
    terms = " + ".join(
        f"{part.weight:.2f}×{INDICATOR_NAMES_ZH[part.indicator]} {part.percentile:.3f}" for part in explanation.parts
    )
    standings = "；".join(
        f"{INDICATOR_NAMES_ZH[part.indicator]} {top_share_text(part.top_share)}"
        + (f"（指标值对照{BASELINE_NAMES_ZH[part.baseline]}）" if part.baseline in BASELINE_NAMES_ZH else "")
        if part.has_value
        else f"{INDICATOR_NAMES_ZH[part.indicator]} 无数据（不计分）"
        for part in explanation.parts
    )
    level = STRATUM_LEVEL_NAMES_ZH.get(explanation.stratum_level or "subfield", "子领域-年份")
    stratum = f"{level}-{GROUP_NAMES_ZH[explanation.journal_group]}的北京论文（{explanation.stratum_works} 篇）"
    admission = ADMISSION_NAMES_ZH.get(explanation.admission or "", "")
    cap_note = "该主题名额已满，因无其他合格论文而补入。" if explanation.over_topic_cap else ""
    lead = f"入选依据：{admission}。" if admission else ""
    return f"{lead}综合得分 {explanation.score:.3f} = {terms}。在{stratum}中：{standings}。{cap_note}"


def gate_text_zh(settings, journal_group: str = "domestic") -> str:
    """What 达到门槛 means under these settings (the overview sheet and the web app)."""
    return GATE_TEXT_ZH.format(
        level="子领域-年份，过小则向上合并", group=GROUP_NAMES_ZH[journal_group] + "分列", track="论文与综述分列",
        share=top_share_text(settings.eligibility_top_share).removeprefix("前 "),
    )


def _flag_zh(value) -> str | None:
    return None if value is None or pd.isna(value) else ("是" if value else "否")


def _share_zh(value) -> str | None:
    return None if value is None or pd.isna(value) else f"{float(value) * 100:.0f}%"


def _joined(values) -> str | None:
    if values is None or isinstance(values, float):  # null, or NaN through pandas
        return None
    return "；".join(str(value) for value in values) or None


def write_candidates_parquet(candidates: pd.DataFrame, path: Path) -> None:
    """candidates.parquet with the fixed schema and its version in the metadata (no pandas
    metadata); identical frames give identical bytes."""
    table = pa.Table.from_pandas(candidates, schema=CANDIDATES_SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata(CANDIDATES_SCHEMA.metadata)
    pq.write_table(table, path, compression="zstd")


# Weights, stratum size and author rule are in the explanation and the overview sheet
# rather than in columns of their own: every cell costs time in a 10,000-row workbook.
_XLSX_COLUMNS = (
    ("排名", lambda row: int(row["rank"])),
    ("综合得分", lambda row: round(float(row["score"]), 4)),
    ("稳定性", lambda row: STABILITY_NAMES_ZH[row["stability"]]),
    ("排名区间", lambda row: _interval_text(row)),
    ("标题", lambda row: row["title"]),
    ("期刊", lambda row: row["source_name"]),
    ("ISSN-L", lambda row: row["issn_l"]),
    ("发表年份", lambda row: int(row["publication_year"])),
    ("类型", lambda row: TYPE_NAMES_ZH.get(row["type"], row["type"])),
    ("DOI", lambda row: _hyperlink(f"https://doi.org/{row['doi']}", row["doi"]) if pd.notna(row["doi"]) else None),
    ("OpenAlex", lambda row: _hyperlink(f"https://openalex.org/{row['work_id']}", row["work_id"])),
    ("主题", lambda row: row["topic_id"]),
    ("主题内排名", lambda row: int(row["topic_rank"])),
    ("文本聚类", lambda row: int(row["cluster"])),
    ("聚类关键词", lambda row: row["cluster_terms"]),
    ("聚类内排名", lambda row: int(row["cluster_rank"])),
    *[
        column
        for name in INDICATORS
        for column in (
            (f"{INDICATOR_NAMES_ZH[name]}值", lambda row, name=name: _number_or_none(row[f"{name}_value"])),
            (f"{INDICATOR_NAMES_ZH[name]}百分位", lambda row, name=name: round(float(row[f"{name}_percentile"]), 4)),
        )
    ],
    ("第一作者在京", lambda row: "是" if row["beijing_first"] else "否"),
    ("通讯作者在京", lambda row: "是" if row["beijing_corresponding"] else "否"),
    ("北京作者占比", lambda row: _share_zh(row["beijing_author_share"])),
    ("大型合作论文", lambda row: _flag_zh(row["consortium"])),
    ("入选依据", lambda row: ADMISSION_NAMES_ZH.get(row["admission"], row["admission"])),
    ("被引次数", lambda row: _number_or_none(row["cited_by_count"])),
    ("全球被引百分位", lambda row: _number_or_none(row["world_percentile"])),
    ("全球前1%", lambda row: _flag_zh(row["world_top_1pct"])),
    ("全国（国内期刊）被引百分位", lambda row: _number_or_none(row["national_percentile"])),
    ("施引文献数", lambda row: _number_or_none(row["citing_works"])),
    ("境外施引占比", lambda row: _share_zh(row["citing_foreign_share"])),
    ("施引国家数", lambda row: _number_or_none(row["citing_countries"])),
    ("ESI高被引", lambda row: _flag_zh(row["esi_highly_cited"])),
    ("期刊分区", lambda row: row["journal_tier"]),
    ("预警期刊", lambda row: row["journal_warning"]),
    ("关键词", lambda row: _joined(row["keywords"])),
    ("开放获取", lambda row: _hyperlink(row["oa_url"], "全文") if isinstance(row["oa_url"], str) else None),
    ("得分说明", lambda row: explanation_text_zh(explain(row))),
)


class _Formula(str):
    """A formula the report builds itself (a link): the only text written as a formula."""


def _hyperlink(url: str, text: str) -> str:
    """``=HYPERLINK("url","text")`` with every '"' doubled (Excel's escape inside a string),
    so a quote in a DOI cannot end the string and append formula text of its own. A text
    too long for a formula literal is written as plain text."""
    url_literal, text_literal = url.replace('"', '""'), text.replace('"', '""')
    if max(len(url_literal), len(text_literal)) > FORMULA_LITERAL_LIMIT:
        return text
    return _Formula(f'=HYPERLINK("{url_literal}","{text_literal}")')


def _interval_text(row: dict) -> str:
    """"12–35"; an end past the quota ``row["quota"]`` (no seat in more than the tail share of
    the bootstrap rounds) reads 名单外."""
    ends = (row["rank_interval_low"], row["rank_interval_high"])
    low, high = (str(end) if end <= row["quota"] else OUT_OF_LIST_ZH for end in ends)
    return f"{low}–{high}"


def _safe_cell(sheet, value):
    """``value`` for ``sheet.append``: text from the data that a spreadsheet would read as a
    formula ("=", "+", "-", "@", tab, CR first) becomes a string-typed, quote-prefixed cell
    (Excel's leading apostrophe); only the report's own links stay formulas."""
    if isinstance(value, _Formula):
        return str(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def _append(sheet, values) -> None:
    sheet.append([_safe_cell(sheet, value) for value in values])


def _number_or_none(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def _sheet_name(discipline_name: str, group: str, used: set[str]) -> str:
    base = f"{discipline_name}-{GROUP_NAMES_ZH[group][:2]}"
    for forbidden in "[]:*?/\\":
        base = base.replace(forbidden, " ")
    name, suffix = base[:31], 2
    while name in used:
        name, suffix = f"{base[:28]}~{suffix}", suffix + 1
    used.add(name)
    return name


def write_candidates_xlsx(result: RankResult, disciplines: DisciplineMap, path: Path) -> None:
    """candidates.xlsx: an overview sheet, then one sheet per discipline x group list."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def header_row(sheet, titles):
        cells = []
        for title in titles:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    overview = workbook.create_sheet("概览")
    header_row(overview, ("学科", "期刊组", "候选池", "达到门槛", "入选", "名额", "缺口"))
    for entry in result.lists:
        _append(
            overview,
            (discipline_name_zh(disciplines, entry["discipline"]), GROUP_NAMES_ZH[entry["journal_group"]],
             entry["pool"], entry["eligible"], entry["selected"], entry["quota"], entry["shortfall"]),
        )
    overview.append(())
    _append(overview, ("作者规则", result.settings.author_rule))
    _append(overview, ("发表年份窗口", f"{result.window[0]}–{result.window[1]}"))
    _append(overview, ("截止日期", result.as_of.isoformat()))
    _append(overview, ("达到门槛的含义", gate_text_zh(result.settings)))
    _append(overview, ("分层", "子领域×年份×期刊组×论文/综述；不足 "
                              f"{result.settings.min_stratum_works} 篇的分层依次并入领域、学科、全部学科（同一年份）"))
    for name in INDICATORS:
        _append(overview, (f"{INDICATOR_NAMES_ZH[name]}默认权重", result.settings.weights[name]))
    for discipline, overrides in sorted(result.settings.discipline_weights.items()):
        _append(overview, (f"{discipline_name_zh(disciplines, discipline)}权重调整", json.dumps(overrides)))

    used_names: set[str] = set()
    per_list = dict(tuple(result.candidates.groupby(["discipline", "journal_group"], sort=False)))
    for entry in result.lists:  # every list gets its sheet, an empty one only headers
        discipline, group = entry["discipline"], entry["journal_group"]
        sheet = workbook.create_sheet(_sheet_name(discipline_name_zh(disciplines, discipline), group, used_names))
        sheet.freeze_panes = "B2"
        header_row(sheet, [title for title, _ in _XLSX_COLUMNS])
        rows = per_list.get((discipline, group))
        for row in rows.to_dict("records") if rows is not None else ():
            row["quota"] = result.settings.per_group
            _append(sheet, [cell(row) for _, cell in _XLSX_COLUMNS])
    workbook.save(path)


def summary_document(result: RankResult, disciplines: DisciplineMap, input_info: dict, candidates_sha256: str) -> dict:
    """summary.json: the input and its checksum, the funnel, every list's counts, the
    settings, and the checksum of the candidates.parquet it describes."""
    document = {
        "input": input_info,
        **result.summary(),
        "outputs": list(OUTPUT_FILES),
        "candidates_sha256": candidates_sha256,
    }
    for part in ("lists", "shortfalls"):
        document[part] = [
            {**entry, "discipline_zh": discipline_name_zh(disciplines, entry["discipline"])} for entry in document[part]
        ]
    return document


def write_report(result: RankResult, disciplines: DisciplineMap, input_info: dict, out_dir: str | Path) -> Path:
    """Write every output into ``out_dir`` as one set (``selection.files.replace_folder``):
    a reader sees either the previous complete set or the new one, and a failure leaves the
    previous set (or nothing) in place. Other files already in ``out_dir`` are carried over."""

    def write_outputs(folder: Path) -> None:
        write_candidates_parquet(result.candidates, folder / CANDIDATES_FILE)
        write_candidates_xlsx(result, disciplines, folder / "candidates.xlsx")
        write_charts(result, disciplines, folder)
        (folder / CONTENTION_FILE).write_text("".join(f"{work_id}\n" for work_id in result.contention),
                                              encoding="utf-8")
        sha256 = file_sha256(folder / CANDIDATES_FILE)
        write_json(folder / SUMMARY_FILE, summary_document(result, disciplines, input_info, sha256))

    return replace_folder(out_dir, write_outputs)
