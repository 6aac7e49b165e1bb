"""import-ris: CNKI / Wanfang RIS records (Chinese titles) read with rispy, mapped to works
rows and merged into a harvest; a malformed file changes nothing."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest
import rispy

from selection.cli import main
from selection.disciplines import load_disciplines
from selection.errors import SelectionError
from selection.imports.merge import merge_into_works, rows_table
from selection.imports.ris import read_ris_files, ris_record_to_work
from selection.schema import WORKS_COLUMNS
from tests.selection.imports_helpers import harvest_rows, load_wos_records, write_works

# CNKI style: T1 / A1 / AD / JF / Y1, keywords in one KW line split by ";", CN number in CN.
CNKI_RIS = """TY  - JOUR
T1  - 基于深度学习的城市交通流预测方法研究
A1  - 张伟;李娜;王强
AD  - 清华大学土木工程系,北京 100084;北京交通大学交通运输学院,北京 100044
JF  - 交通运输系统工程与信息
Y1  - 2023/05/12
KW  - 深度学习;交通流预测;图神经网络
AB  - 针对城市交通流预测问题，提出一种基于图神经网络的方法。
SN  - 1009-6744
CN  - 11-4520/U
N1  - 基金：国家自然科学基金(52072011)；北京市自然科学基金(L201001)
ER  - 

TY  - JOUR
T1  - 高熵合金力学性能研究进展
A1  - 刘洋
AD  - 上海交通大学材料科学与工程学院,上海 200240
JF  - 金属学报
Y1  - 2022
KW  - 高熵合金；力学性能
SN  - 0412-1961
ER  - 

"""


def _wanfang_ris(doi: str) -> str:
    """Wanfang style: TI / AU per line / JO / PY / DO / LA, an English journal in China."""
    return f"""TY  - JOUR
TI  - 北京城区PM2.5来源解析
AU  - 陈静
AU  - 赵磊
AD  - 北京大学环境科学与工程学院,北京 100871
JO  - 环境科学
PY  - 2024
DO  - {doi}
LA  - chi
ER  - 
"""


@pytest.fixture(scope="module")
def disciplines():
    return load_disciplines()


def test_cnki_records_read_with_rispy_map_to_works_rows(tmp_path, disciplines):
    path = tmp_path / "cnki.ris"
    path.write_text(CNKI_RIS, encoding="utf-8")
    [(label, records)] = read_ris_files([path])
    assert label == "cnki.ris" and len(records) == 2
    first, second = (ris_record_to_work(r, disciplines, "ris:cnki.ris") for r in records)
    assert tuple(first) == WORKS_COLUMNS
    assert first["work_id"].startswith("RIS:") and first["work_id"] != second["work_id"]
    assert first["title"] == "基于深度学习的城市交通流预测方法研究"
    assert [a["name"] for a in first["authorships"]] == ["张伟", "李娜", "王强"]
    assert first["publication_year"] == 2023 and str(first["publication_date"]) == "2023-05-12"
    assert first["journal_group"] == "domestic" and first["language"] == "zh" and first["type"] == "article"
    assert first["issns"] == ["1009-6744"] and first["keywords"] == ["深度学习", "交通流预测", "图神经网络"]
    assert first["funders"] == ["国家自然科学基金(52072011)", "北京市自然科学基金(L201001)"]
    assert first["beijing_any"] and first["beijing_first"] and first["record_sources"] == ["ris:cnki.ris"]
    assert second["type"] == "review"  # 研究进展
    assert not second["beijing_any"]  # a Shanghai address
    again = ris_record_to_work(records[0], disciplines, "ris:other.ris")
    assert again["work_id"] == first["work_id"]  # stable: title, year and journal


def test_raw_tag_mappings_are_accepted(disciplines):
    row = ris_record_to_work({"TY": "JOUR", "TI": "北京城区PM2.5来源解析", "AU": ["陈静"], "PY": "2024",
                              "JO": "环境科学", "DO": "10.13227/J.HJKX.202401001"}, disciplines, "ris:x")
    assert row["doi"] == "10.13227/j.hjkx.202401001" and row["source_name"] == "环境科学"


def test_import_ris_merges_by_doi_and_adds_domestic_papers(tmp_path, capsys):
    records = load_wos_records()
    harvested = [r for r in records if r.get("DI")][:30]
    rows = harvest_rows(harvested)
    works = write_works(rows, tmp_path / "works.parquet")
    cnki = tmp_path / "cnki.ris"
    cnki.write_text(CNKI_RIS, encoding="utf-8")
    wanfang = tmp_path / "wanfang.ris"
    wanfang.write_text(_wanfang_ris(harvested[0]["DI"].upper()), encoding="utf-8")
    assert main(["import-ris", str(cnki), str(wanfang), "--works", str(works)]) == 0
    merged = {row["work_id"]: row for row in pq.read_table(works).to_pylist()}
    matched = merged[rows[0]["work_id"]]
    assert matched["record_sources"] == ["openalex", "ris:wanfang.ris"]
    added = [row for row in merged.values() if row["work_id"].startswith("RIS:")]
    # the Shanghai paper is not Beijing, so it is not added
    assert [row["title"] for row in added] == ["基于深度学习的城市交通流预测方法研究"]
    with (tmp_path / "works.ris_unmatched.csv").open(encoding="utf-8-sig") as handle:
        listed = list(csv.DictReader(handle))
    assert {(e["title"], e["added"], e["reason"]) for e in listed} == {
        ("基于深度学习的城市交通流预测方法研究", "yes", "no DOI"),
        ("高熵合金力学性能研究进展", "no", "no DOI; not added: no Beijing address"),
    }
    assert "1 matched" in capsys.readouterr().out


@pytest.mark.parametrize("content", [
    CNKI_RIS.rsplit("ER  -", 1)[0],  # the last record lacks its ER
    "\x00\x01\x02binary\xff" * 50,
    "这不是RIS文件\n",
    "TY  - JOUR\nA1  - 张伟\nER  - \n",  # no title
])
def test_a_malformed_ris_file_is_one_error_line_and_changes_nothing(tmp_path, capsys, content):
    works = write_works(harvest_rows(load_wos_records()[:5]), tmp_path / "works.parquet")
    before = works.read_bytes()
    good = tmp_path / "good.ris"
    good.write_text(CNKI_RIS, encoding="utf-8")
    bad = tmp_path / "bad.ris"
    bad.write_bytes(content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content)
    assert main(["import-ris", str(good), str(bad), "--works", str(works)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and str(bad) in error[0]
    assert works.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ris", "good.ris", "works.parquet"]


def test_a_truncated_record_names_its_line(tmp_path):
    bad = tmp_path / "cut.ris"
    bad.write_text(CNKI_RIS.rsplit("ER  -", 1)[0], encoding="utf-8")
    with pytest.raises(SelectionError, match=r"cut\.ris, line 14: a record that does not end with 'ER  -'"):
        read_ris_files([bad])



def test_an_added_paper_takes_the_subfield_of_its_journal_in_the_harvest(disciplines):
    rows = harvest_rows(load_wos_records())
    row = next(r for r in rows if r["journal_group"] == "domestic" and r["discipline"] and r["issn_l"])
    harvest = rows_table([row])
    text = CNKI_RIS.split("ER  -", 1)[0].replace("1009-6744", row["issn_l"]) + "ER  - \n"
    paper = ris_record_to_work(rispy.loads(text)[0], disciplines, "ris:cnki.ris")
    assert paper["subfield_id"] is None and paper["issn_l"] == row["issn_l"]
    merged, report = merge_into_works(harvest, [paper], "ris")
    assert report.added == 1
    added = merged.to_pylist()[-1]
    assert added["work_id"] == paper["work_id"]
    assert (added["subfield_id"], added["field_id"], added["discipline"]) == (
        row["subfield_id"], row["field_id"], row["discipline"])
