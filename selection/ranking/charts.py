"""The ranking's three charts, labelled in Chinese with a CJK font found through
matplotlib's font manager; in English only when no such font is installed (said once in
the log). Debian's ``fonts-wqy-microhei`` is the one ``make test`` installs.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from selection.disciplines import DisciplineMap
from selection.ranking.labels_zh import GROUP_NAMES_ZH, INDICATOR_NAMES_ZH, discipline_name_zh
from selection.ranking.rank import RankResult
from selection.schema import INDICATORS, JOURNAL_GROUPS

log = logging.getLogger(__name__)

# Font families with Chinese glyphs, best first, and the file names they come in (for a
# font installed after matplotlib cached its font list).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
    "Source Han Sans CN", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
)
CJK_FILE_NAMES = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "notosanssc", "sourcehansans", "simhei", "msyh", "pingfang")

LABELS = {
    "zh": {
        "group": GROUP_NAMES_ZH,
        "indicator": INDICATOR_NAMES_ZH,
        "score_title": "{group}：综合得分分布",
        "score": "综合得分",
        "works": "论文数",
        "eligible": "达到门槛的候选池",
        "selected": "入选",
        "largest_topic": "最大主题所占名额比例",
        "topic_cap": "主题上限",
        "correlation_title": "候选论文各指标百分位的 Spearman 相关",
    },
    "en": {
        "group": {"domestic": "domestic journals", "international": "international journals"},
        "indicator": {name: name for name in INDICATORS},
        "score_title": "{group}: composite score",
        "score": "score",
        "works": "works",
        "eligible": "eligible pool",
        "selected": "selected",
        "largest_topic": "seats taken by the largest topic, share of the quota",
        "topic_cap": "topic cap",
        "correlation_title": "Spearman correlation of indicator percentiles (candidates)",
    },
}


def find_cjk_font() -> str | None:
    """The file of an installed font with Chinese glyphs: a known family in matplotlib's
    font list, else a known font file among the system's fonts; None when there is none."""
    by_family = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in by_family:
            return by_family[family]
    for path in sorted(font_manager.findSystemFonts()):
        name = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(hint.replace("-", "") in name for hint in CJK_FILE_NAMES):
            return path
    return None


@functools.lru_cache(maxsize=1)
def chart_font() -> font_manager.FontProperties | None:
    """The CJK font for the chart labels, looked up once; None (and one warning in the log)
    when no CJK font is installed."""
    path = find_cjk_font()
    if path is None:
        log.warning(
            "no font with Chinese glyphs found (install fonts-wqy-microhei); the ranking's charts are labelled in English"
        )
        return None
    return font_manager.FontProperties(fname=path)


def chart_figures(result: RankResult, disciplines: DisciplineMap) -> dict[str, Figure]:
    """The charts by file name: score distributions, the largest topic's share of each
    list, the correlations of the indicator percentiles."""
    font = chart_font()
    labels = LABELS["zh" if font is not None else "en"]
    text = {"fontproperties": font} if font is not None else {}
    return {
        "score_distributions.png": _score_distributions(result, labels, text),
        "topic_shares.png": _topic_shares(result, disciplines, labels, text, chinese=font is not None),
        "indicator_correlations.png": _indicator_correlations(result, labels, text),
    }


def write_charts(result: RankResult, disciplines: DisciplineMap, folder: Path) -> None:
    """Write the charts into ``folder`` as PNG."""
    for name, figure in chart_figures(result, disciplines).items():
        figure.tight_layout()
        figure.savefig(folder / name, dpi=110)


# Figure objects rather than pyplot: no global backend state, safe inside the web app; the
# font goes to each text, not into matplotlib's global rcParams.


def _score_distributions(result: RankResult, labels: dict, text: dict) -> Figure:
    pool = result.pool
    figure = Figure(figsize=(11, 4))
    axes = figure.subplots(1, 2, sharey=True)
    for axis, group in zip(axes, JOURNAL_GROUPS, strict=True):
        scores = pool.loc[pool["journal_group"] == group]
        bins = np.linspace(0, 1, 41)
        axis.hist(scores.loc[scores["eligible"], "score"], bins=bins, alpha=0.6, label=labels["eligible"])
        axis.hist(scores.loc[scores["selected"], "score"], bins=bins, alpha=0.8, label=labels["selected"])
        axis.set_title(labels["score_title"].format(group=labels["group"][group]), **text)
        axis.set_xlabel(labels["score"], **text)
        axis.legend(prop=text.get("fontproperties"))
    axes[0].set_ylabel(labels["works"], **text)
    return figure


def _topic_shares(result: RankResult, disciplines: DisciplineMap, labels: dict, text: dict, chinese: bool) -> Figure:
    candidates = result.candidates
    shares = (
        candidates.groupby(["discipline", "journal_group", "topic_id"]).size().groupby(level=[0, 1]).max()
        / result.settings.per_group
    ) if len(candidates) else pd.Series(dtype=float)
    figure = Figure(figsize=(8, max(3, 0.28 * len(shares) + 1)))
    axis = figure.subplots()
    names = [
        f"{discipline_name_zh(disciplines, discipline) if chinese else discipline} / {labels['group'][group]}"
        for discipline, group in shares.index
    ]
    axis.barh(np.arange(len(shares)), shares.to_numpy())
    axis.set_yticks(np.arange(len(shares)), names, **text)
    axis.axvline(result.settings.topic_cap_share, color="red", linestyle="--", label=labels["topic_cap"])
    axis.set_xlabel(labels["largest_topic"], **text)
    axis.invert_yaxis()
    axis.legend(prop=text.get("fontproperties"))
    return figure


def _indicator_correlations(result: RankResult, labels: dict, text: dict) -> Figure:
    candidates = result.candidates
    columns = [f"{name}_percentile" for name in INDICATORS]
    correlation = (
        candidates[columns].corr(method="spearman").fillna(0).to_numpy() if len(candidates) > 1
        else np.eye(len(columns))
    )
    figure = Figure(figsize=(5.5, 4.5))
    axis = figure.subplots()
    image = axis.imshow(correlation, vmin=-1, vmax=1, cmap="coolwarm")
    names = [labels["indicator"][name] for name in INDICATORS]
    axis.set_xticks(range(len(INDICATORS)), names, rotation=30, **text)
    axis.set_yticks(range(len(INDICATORS)), names, **text)
    for (i, j), value in np.ndenumerate(correlation):
        axis.text(j, i, f"{value:.2f}", ha="center", va="center")
    axis.set_title(labels["correlation_title"], **text)
    figure.colorbar(image)
    return figure
