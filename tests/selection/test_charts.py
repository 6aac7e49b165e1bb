"""The ranking's charts: Chinese labels in a CJK font found through matplotlib's font
manager, English labels and one warning in the log when there is none."""

from __future__ import annotations

import logging
import re

import pytest
from matplotlib import font_manager

from selection.disciplines import load_disciplines
from selection.ranking import charts
from selection.ranking.rank import rank_works
from selection.ranking.settings import load_rank_settings
from selection.schema import CHART_FILES
from tests.selection.rank_helpers import work, works_frame_of

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def result():
    rows = [work(i, citation_normalized_percentile=i / 3000) for i in range(1, 3001)]
    rows += [work(i, journal_group="domestic", citation_normalized_percentile=(i - 5000) / 3000)
             for i in range(5001, 8001)]
    return rank_works(works_frame_of(rows), load_rank_settings().with_overrides(per_group=200, bootstrap_rounds=5))


@pytest.fixture
def font_lookup():
    """A fresh lookup for each test (it is done once per process otherwise)."""
    charts.chart_font.cache_clear()
    yield
    charts.chart_font.cache_clear()


def texts(figure):
    """Every title, axis label, tick label and legend entry of a figure, with its font file."""
    found = []
    for axis in figure.axes:
        items = [axis.title, axis.xaxis.label, axis.yaxis.label, *axis.get_xticklabels(), *axis.get_yticklabels()]
        legend = axis.get_legend()
        items += legend.get_texts() if legend else []
        found += [(item.get_text(), item.get_fontproperties().get_file()) for item in items if item.get_text()]
    return found


def test_the_cjk_font_is_found_through_the_font_manager_and_labels_are_chinese(result, font_lookup, caplog):
    path = charts.find_cjk_font()
    if path is None:
        pytest.skip("no CJK font installed (sudo apt-get install fonts-wqy-microhei, as make test does)")
    assert path in {entry.fname for entry in font_manager.fontManager.ttflist} | set(font_manager.findSystemFonts())
    with caplog.at_level(logging.WARNING, logger=charts.log.name):
        figures = charts.chart_figures(result, load_disciplines())
    assert sorted(figures) == sorted(CHART_FILES)
    assert not caplog.records
    for name, figure in figures.items():
        chinese = [(text, font) for text, font in texts(figure) if CJK.search(text)]
        assert chinese, name
        assert {font for _, font in chinese} == {path}, name
    assert "国内期刊：综合得分分布" in [text for text, _ in texts(figures["score_distributions.png"])]
    assert "数学 / 国际期刊" in [text for text, _ in texts(figures["topic_shares.png"])]


def test_without_a_cjk_font_the_labels_are_english_and_the_log_says_so_once(
    result, font_lookup, monkeypatch, caplog, tmp_path
):
    monkeypatch.setattr(charts, "find_cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger=charts.log.name):
        for folder in (tmp_path / "first", tmp_path / "second"):
            folder.mkdir()
            charts.write_charts(result, load_disciplines(), folder)
            assert sorted(path.name for path in folder.iterdir()) == sorted(CHART_FILES)
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "fonts-wqy-microhei" in caplog.records[0].getMessage()
    figures = charts.chart_figures(result, load_disciplines())
    labels = [text for figure in figures.values() for text, _ in texts(figure)]
    assert "domestic journals: composite score" in labels and "mathematics / international journals" in labels
    assert not [text for text in labels if CJK.search(text)]
