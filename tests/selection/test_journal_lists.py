"""The user's journal table: importing lists (CSV/XLSX, Chinese headers), validation reports,
the works' journal columns, the resolver overrides and the journals OpenAlex places in China."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from selection.cli import main
from selection.errors import SelectionError
from selection.journal_groups import JournalGroupResolver, load_overrides
from selection.journal_lists import (
    TABLE_COLUMNS,
    JournalRow,
    JournalTable,
    add_openalex_journals,
    load_journal_table,
    merge_journal_lists,
    read_harvest_journals,
    read_journal_list,
    title_key,
    write_journal_table,
)
from tests.conftest import shared_data_dir

JOURNALS = shared_data_dir() / "journals"
FUEL = ("0016-2361", "1873-7153")  # Fuel, on the 2024 warning list and in the CAS partition


@pytest.fixture
def lists_dir():
    """The real journal lists of the shared data folder, or skip."""
    if not (JOURNALS / "cas_partition_2025.csv.gz").is_file():
        pytest.skip(f"real journal lists not found at {JOURNALS} (set SHARED_DATA to the shared/data folder)")
    return JOURNALS


def run_cli(capsys, *arguments) -> tuple[int, str, str]:
    code = main(["journals", *map(str, arguments)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cas_partition_rows(lists_dir) -> list[list[str]]:
    with gzip.open(lists_dir / "cas_partition_2025.csv.gz", "rt", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_csv(path, rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows, title_row=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    if title_row:
        sheet.append([title_row])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_works(path, journals):
    """A works.parquet with the columns the journal commands read; one work per tuple
    (source_id, issn_l, issns, source_name, journal_group, journal_group_rule, language)."""
    names = ("source_id", "issn_l", "issns", "source_name", "journal_group", "journal_group_rule", "language")
    columns = {name: [journal[i] for journal in journals] for i, name in enumerate(names)}
    types = {"issns": pa.list_(pa.string())}
    table = pa.table({name: pa.array(values, types.get(name, pa.string())) for name, values in columns.items()})
    pq.write_table(table, path)
    return path


# --- real lists ----------------------------------------------------------------------------


def test_real_cas_partition_imports_tiers_and_reports_bad_check_digits(lists_dir, tmp_path, capsys):
    source = write_csv(tmp_path / "cas.csv", cas_partition_rows(lists_dir))
    table_path = tmp_path / "journals.csv"
    code, out, _ = run_cli(capsys, "import", source, "--kind", "tier", "--name", "中科院分区-2025",
                           "--table", table_path)
    assert code == 0
    assert "columns: issn <- 'ISSN/EISSN'; title <- 'Journal'; tier <- '大类分区'; top <- 'Top'" in out
    assert "rows read 21772, valid 21766, invalid 6" in out
    assert "line 649: ISSN '2254-8854' has a wrong check digit" in out
    table = load_journal_table(table_path)
    by_issn = {row.issn: row for row in table.rows}
    assert len(by_issn) > 38000  # print and electronic ISSNs, one row each
    assert by_issn[FUEL[0]].tier == by_issn[FUEL[1]].tier == ["中科院分区-2025: 2区 Top"]
    assert by_issn[FUEL[0]].source == ["tier:中科院分区-2025"]
    assert "2254-8854" not in by_issn


def test_real_cas_partition_as_xlsx_with_a_title_row_reads_like_the_csv(lists_dir, tmp_path):
    rows = cas_partition_rows(lists_dir)[:400]
    from_csv = read_journal_list(write_csv(tmp_path / "cas.csv", rows), "tier")
    from_xlsx = read_journal_list(write_xlsx(tmp_path / "cas.xlsx", rows, title_row="2025年中科院分区表"), "tier")
    assert from_xlsx.file_format == "XLSX sheet '名单'"
    assert from_xlsx.header_line == 2
    assert from_xlsx.columns_used == from_csv.columns_used
    assert [(e.issns, e.value) for e in from_xlsx.entries] == [(e.issns, e.value) for e in from_csv.entries]
    assert [line - 1 for line, _ in from_xlsx.invalid] == [line for line, _ in from_csv.invalid]
    assert len(from_csv.entries) > 390


def test_real_warning_lists_match_the_table_by_title(lists_dir, tmp_path, capsys):
    table_path = tmp_path / "journals.csv"
    cas = write_csv(tmp_path / "cas.csv", cas_partition_rows(lists_dir))
    run_cli(capsys, "import", cas, "--kind", "tier", "--name", "中科院分区-2025", "--table", table_path)
    code, out, _ = run_cli(capsys, "import", lists_dir / "cas_warning_list_2024.csv", "--kind", "warning",
                           "--name", "预警名单-2024", "--table", table_path)
    assert code == 0
    assert "title <- 'Journal'; warning <- '预警原因（2024）'" in out
    assert "rows read 24, valid 24, invalid 0" in out
    by_issn = {row.issn: row for row in load_journal_table(table_path).rows}
    assert by_issn[FUEL[0]].warning == by_issn[FUEL[1]].warning == ["预警名单-2024: 引用操纵"]
    # half the 2024 titles left the 2025 partition (delisted): they are kept without ISSN
    assert "new 12, updated 20, removed 0; 12 entries kept without ISSN" in out
    warned = [row for row in by_issn.values() if row.warning]
    assert len({row.title.upper() for row in warned if row.issn}) == 12
    assert all(row.tier for row in warned if row.issn)
    assert by_issn[""].title == "TROPICAL JOURNAL OF PHARMACEUTICAL RESEARCH"  # the last title-only row


def test_real_ccf_list_gives_cn_numbers_by_title_and_refuses_the_truncated_one(lists_dir, tmp_path, capsys):
    table_path = tmp_path / "journals.csv"
    cas = write_csv(tmp_path / "cas.csv", cas_partition_rows(lists_dir))
    run_cli(capsys, "import", cas, "--kind", "tier", "--name", "中科院分区-2025", "--table", table_path)
    code, out, _ = run_cli(capsys, "import", lists_dir / "ccf_t_tier_2025.csv", "--kind", "tier",
                           "--name", "CCF-T-2025", "--table", table_path)
    assert code == 0
    assert "cn <- 'CN号'; title <- 'Journal', '中文刊名'; language <- '语种'; tier <- 'T分区'" in out
    assert "line 2: CN number '0-1514/G2' must look like 11-5639/O4" in out
    # two journals are titled "Journal of Computer Science (&|and) Technology": not matched by title
    assert "line 8: title 'Journal of Computer Science and Technology' names 2 journals" in out
    table = load_journal_table(table_path)
    by_issn = {row.issn: row for row in table.rows if row.issn}
    electronics = by_issn["1022-4653"]  # Chinese Journal of Electronics
    assert (electronics.cn_number, electronics.language) == ("10-1284/TN", "en")
    assert electronics.tier == ["CCF-T-2025: T1", "中科院分区-2025: 3区"]
    assert by_issn["1666-6038"].cn_number == ""  # the Argentinian namesake stays international
    chinese = {row.title: row for row in table.rows if not row.issn}
    assert chinese["软件学报"].cn_number == "11-2560/TP" and chinese["软件学报"].language == "zh"
    overrides = table.as_resolver_overrides()
    assert overrides["1022-4653"] == "10-1284/TN" and "1666-6038" not in overrides


def test_real_cn_core_catalogue_joins_an_issn_cn_list_by_title(lists_dir, tmp_path, capsys):
    with gzip.open(lists_dir / "cn_core_catalogs_2025.json.gz", "rt", encoding="utf-8") as handle:
        catalogue = json.load(handle)["index"]
    core = [["期刊名称", "收录情况"]] + [[title, item["t"]] for title, item in catalogue.items() if "北大核心" in item["t"]]
    assert len(core) > 1000
    table_path = tmp_path / "journals.csv"
    code, out, _ = run_cli(capsys, "import", write_csv(tmp_path / "pku.csv", core), "--kind", "catalogue",
                           "--name", "北大核心-2023", "--table", table_path)
    assert code == 0 and f"valid {len(core) - 1}," in out
    user_list = write_xlsx(tmp_path / "cn.xlsx", [["国际标准刊号", "国内统一刊号", "刊名"],
                                                   ["1000-3290", "CN 11-1958/O4", "物理学报"]])
    code, out, _ = run_cli(capsys, "import", user_list, "--kind", "catalogue", "--name", "科技核心-2025",
                           "--table", table_path)
    assert code == 0
    assert "columns: issn <- '国际标准刊号'; cn <- '国内统一刊号'; title <- '刊名'" in out
    table = load_journal_table(table_path)
    physics = [row for row in table.rows if row.title == "物理学报"]
    assert len(physics) == 1  # the title-only row was absorbed into the ISSN row
    assert (physics[0].issn, physics[0].cn_number) == ("1000-3290", "11-1958/O4")
    assert physics[0].catalogues == ["北大核心-2023", "科技核心-2025"]
    columns = table.columns(["1000-3290", None], [["1000-3290"], None])
    assert columns.loc[0, "journal_catalogues"] == ["北大核心-2023", "科技核心-2025"]
    assert bool(columns.loc[0, "domestic"]) and not bool(columns.loc[1, "domestic"])


# --- reading and validating ----------------------------------------------------------------


def test_chinese_headers_gb18030_and_value_cleaning(tmp_path):
    path = write_csv(tmp_path / "list.csv", [
        ["序号", "期刊名称", "ISSN", "国内统一刊号", "语种", "预警等级（2025）"],
        ["1", "中国物理B", "1674-1056", "CN11-5639/O4", "英文", "高"],
        ["2", "物理学报", "1000 3290".replace(" ", ""), "１１－１９５８／Ｏ４", "中文", "中; 低"],
    ], encoding="gb18030")
    journal_list = read_journal_list(path, "warning")
    assert journal_list.file_format == "CSV (GB18030)"
    assert journal_list.columns_used == {"issn": ["ISSN"], "cn": ["国内统一刊号"], "title": ["期刊名称"],
                                         "language": ["语种"], "warning": ["预警等级（2025）"]}
    first, second = journal_list.entries
    assert (first.issns, first.cn_number, first.language, first.value) == (("1674-1056",), "11-5639/O4", "en", "高")
    assert (second.issns, second.cn_number, second.language) == (("1000-3290",), "11-1958/O4", "zh")
    assert second.value == "中, 低"  # ";" would split the table's entries


def test_invalid_rows_are_reported_with_their_line_numbers(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        "刊名,ISSN,CN,分区\n"
        "Good,1674-1056,11-5639/O4,1区\n"
        "\"Two\nlines\",0256-3071,,2区\n"  # a quoted cell spans lines 3-4; wrong check digit
        "Short,1674-105,,2区\n"
        "Bad CN,0256-307X,0-1514/G2,2区\n"
        ",,,3区\n"
        "No tier,1000-3290,,\n"
        "\n"
        "Again,1674-1056,,4区\n"
        "Same again,1674-1056,,1区\n",
        encoding="utf-8",
    )
    journal_list = read_journal_list(path, "tier")
    assert journal_list.rows_read == 8  # the blank line is no row
    assert [entry.line for entry in journal_list.entries] == [2, 11]
    assert journal_list.invalid == [
        (3, "ISSN '0256-3071' has a wrong check digit"),
        (5, "'1674-105' is not an ISSN (NNNN-NNNC)"),
        (6, "CN number '0-1514/G2' must look like 11-5639/O4"),
        (7, "no ISSN, CN number or title"),
        (8, "empty tier in column '分区'"),
        (10, "ISSN 1674-1056 is listed again with another value (line 2: '1区')"),
    ]


def test_named_columns_override_detection(tmp_path):
    path = write_csv(tmp_path / "list.csv", [["code", "name", "grade"], ["1674-1056", "CPB", "A"]])
    with pytest.raises(SelectionError, match="no ISSN, CN number or journal title column"):
        read_journal_list(path, "tier")
    from selection.journal_lists import ColumnChoice

    journal_list = read_journal_list(path, "tier", ColumnChoice(issn="code", title="name", value="grade"))
    assert journal_list.columns_used == {"issn": ["code"], "title": ["name"], "tier": ["grade"]}
    assert journal_list.entries[0].value == "A"
    with pytest.raises(SelectionError, match="'absent'"):
        read_journal_list(path, "tier", ColumnChoice(issn="absent"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old Excel (.xls)"),
        (b"\x00\x01\x02binary\x00", "not a CSV or XLSX file"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX"),
        ("作者,单位\n张三,北大\n".encode(), "no ISSN, CN number or journal title column"),
        (b"ISSN,Journal,Tier\n", "no data rows"),
        (b"ISSN,Journal\n1674-1056,CPB\n", "no tier column"),
    ],
)
def test_malformed_files_are_one_error_and_leave_the_table_unchanged(tmp_path, capsys, content, message):
    table_path = tmp_path / "journals.csv"
    write_journal_table(JournalTable([JournalRow(issn="1674-1056", tier=["X: 1"], source=["tier:X"])]), table_path)
    before = table_path.read_bytes()
    good = write_csv(tmp_path / "good.csv", [["ISSN", "分区"], ["0256-307X", "2区"]])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    code, out, err = run_cli(capsys, "import", good, bad, "--kind", "tier", "--name", "X", "--table", table_path)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert out == ""
    assert table_path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_bad_list_name_and_bad_table_are_refused(tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", [["ISSN", "分区"], ["0256-307X", "2区"]])
    code, _, err = run_cli(capsys, "import", good, "--kind", "tier", "--name", "a;b", "--table", tmp_path / "t.csv")
    assert code == 2 and "list name 'a;b'" in err
    table_path = tmp_path / "journals.csv"
    table_path.write_text(",".join(TABLE_COLUMNS) + "\n0256-3071,,,,,,,x\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "import", good, "--kind", "tier", "--name", "X", "--table", table_path)
    assert code == 2 and "line 2: '0256-3071' is not a valid ISSN" in err
    table_path.write_text(",".join(TABLE_COLUMNS) + "\n0256-307X,,,,,,,x\n0256307x,,,,,,,y\n", encoding="utf-8")
    with pytest.raises(SelectionError, match="line 3: ISSN 0256-307X is listed twice"):
        load_journal_table(table_path)
    with pytest.raises(SelectionError, match="not found"):
        load_journal_table(tmp_path / "absent.csv")


# --- merging -------------------------------------------------------------------------------


def test_importing_a_name_again_replaces_its_entries(tmp_path, capsys):
    table_path = tmp_path / "journals.csv"
    first = write_csv(tmp_path / "v1.csv", [["ISSN", "刊名"], ["1674-1056", "CPB"], ["0256-307X", "CPL"]])
    run_cli(capsys, "import", first, "--kind", "catalogue", "--name", "CSCD-2025", "--table", table_path)
    other = write_csv(tmp_path / "other.csv", [["ISSN", "刊名"], ["0256-307X", "CPL"]])
    run_cli(capsys, "import", other, "--kind", "catalogue", "--name", "科技核心-2025", "--table", table_path)
    corrected = write_csv(tmp_path / "v2.csv", [["ISSN", "刊名"], ["1674-1056", "CPB"]])
    code, out, _ = run_cli(capsys, "import", corrected, "--kind", "catalogue", "--name", "CSCD-2025",
                           "--table", table_path)
    assert code == 0 and "new 0, updated 1, removed 0" in out
    rows = {row.issn: row for row in load_journal_table(table_path).rows}
    assert rows["1674-1056"].catalogues == ["CSCD-2025"]
    assert rows["0256-307X"].catalogues == ["科技核心-2025"]
    assert rows["0256-307X"].source == ["catalogue:科技核心-2025"]
    run_cli(capsys, "import", corrected, "--kind", "catalogue", "--name", "科技核心-2025", "--table", table_path)
    before = table_path.read_bytes()
    code, out, _ = run_cli(capsys, "import", corrected, "--kind", "catalogue", "--name", "科技核心-2025",
                           "--table", table_path)
    assert "new 0, updated 0, removed 0" in out and table_path.read_bytes() == before
    assert "0256-307X" not in {row.issn for row in load_journal_table(table_path).rows}  # no list keeps it


def test_title_only_entries_take_issns_from_the_harvest(tmp_path, capsys):
    works = write_works(tmp_path / "works.parquet", [
        ("S1", "0016-2361", ["0016-2361", "1873-7153"], "Fuel", "international", "source_country", "en"),
        ("S1", "0016-2361", ["0016-2361", "1873-7153"], "Fuel", "international", "source_country", "en"),
        ("S2", "1674-1056", ["1674-1056"], "Chinese Physics B", "domestic", "override", "en"),
        ("S3", "1000-3290", ["1000-3290"], "Acta Physica Sinica", "domestic", "source_country", "zh"),
        ("S4", "0028-0836", ["0028-0836"], "Energy", "international", "source_country", "en"),
        ("S5", "0360-5442", ["0360-5442"], "ENERGY", "international", "source_country", "en"),
    ])
    warnings = write_csv(tmp_path / "warn.csv", [["Journal", "预警原因"], ["FUEL", "引用操纵"], ["Energy", "x"],
                                                  ["Unknown Journal", "y"]])
    table_path = tmp_path / "journals.csv"
    code, out, _ = run_cli(capsys, "import", warnings, "--kind", "warning", "--name", "预警-2024",
                           "--table", table_path, "--works", works)
    assert code == 0
    assert "1 entries matched the harvest's journals by title" in out
    assert "line 3: title 'Energy' names 2 journals" in out
    assert "harvest " in out and "5 journals, 1 matched by the table (by ISSN), 0 of them domestic" in out
    rows = {row.issn or row.title: row for row in load_journal_table(table_path).rows}
    assert rows["1873-7153"].warning == ["预警-2024: 引用操纵"] and rows["1873-7153"].title == "FUEL"
    assert rows["Unknown Journal"].issn == "" and rows["Energy"].issn == ""

    code, out, _ = run_cli(capsys, "from-openalex", "--works", works, "--table", table_path)
    assert code == 0
    assert "1 of 5 harvested journals have source country CN" in out
    assert "5 journals, 2 matched by the table (by ISSN), 1 of them domestic" in out
    rows = {row.issn: row for row in load_journal_table(table_path).rows}
    acta = rows["1000-3290"]
    assert (acta.cn_number, acta.title, acta.language, acta.source) == ("", "Acta Physica Sinica", "zh", ["openalex"])
    assert "1674-1056" not in rows  # domestic by the override table, not by its source country
    before = table_path.read_bytes()
    code, out, _ = run_cli(capsys, "from-openalex", "--works", works, "--table", table_path)
    assert "new 0, updated 0, removed 0" in out and table_path.read_bytes() == before


def test_from_openalex_refuses_a_file_that_is_not_a_works_table(tmp_path, capsys):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    code, _, err = run_cli(capsys, "from-openalex", "--works", path, "--table", tmp_path / "journals.csv")
    assert code == 2 and "lacks the works columns" in err
    assert not (tmp_path / "journals.csv").exists()


# --- the works' columns and the resolver ---------------------------------------------------


def small_table() -> JournalTable:
    return JournalTable([
        JournalRow(issn="1674-1056", cn_number="11-5639/O4", title="CPB", language="en",
                   catalogues=["CSCD-2025"], tier=["T: 1区"], source=["catalogue:CSCD-2025"]),
        JournalRow(issn="2058-3834", title="CPB online", catalogues=["科技核心-2025"], tier=["T: 2区"],
                   source=["catalogue:科技核心-2025"]),
        JournalRow(issn="0016-2361", title="Fuel", warning=["预警: 引用操纵"], source=["warning:预警"]),
        JournalRow(issn="1000-3290", title="Acta", language="zh", source=["openalex"]),
        JournalRow(cn_number="11-2560/TP", title="软件学报", tier=["CCF: T1"], source=["tier:CCF"]),
    ])


def test_columns_align_with_the_works_and_combine_their_issns():
    table = small_table()
    issn_l = pd.Series(["1674-1056", "2058-3834", None, "0016-2361", "1000-3290", "9999-9999", None, "0016-2361"],
                       index=[10, 11, 12, 13, 14, 15, 16, 17])
    issns = pd.Series([["1674-1056", "2058-3834"], ["2058-3834", "1674-1056"], ["00162361"], ["0016-2361"],
                       None, [], None, ["0016-2361", None]], index=issn_l.index)
    columns = table.columns(issn_l, issns)
    assert list(columns.columns) == ["cn_number", "journal_catalogues", "journal_tier", "journal_warning",
                                     "journal_language", "domestic"]
    assert list(columns.index) == list(issn_l.index)
    records = columns.to_dict("records")
    assert records[0] == {"cn_number": "11-5639/O4", "journal_catalogues": ["CSCD-2025", "科技核心-2025"],
                          "journal_tier": "T: 1区", "journal_warning": None, "journal_language": "en",
                          "domestic": True}
    # the issn_l row comes first for scalar values; the CN number comes from the other row
    assert records[1]["journal_tier"] == "T: 2区" and records[1]["cn_number"] == "11-5639/O4"
    assert records[1]["journal_catalogues"] == ["CSCD-2025", "科技核心-2025"] and records[1]["domestic"]
    assert records[2]["journal_warning"] == records[3]["journal_warning"] == "预警: 引用操纵"  # unhyphenated ISSN
    assert not records[3]["domestic"]
    assert records[4]["domestic"] and records[4]["journal_language"] == "zh" and records[4]["cn_number"] is None
    for unmatched in (records[5], records[6]):
        assert unmatched == {"cn_number": None, "journal_catalogues": [], "journal_tier": None,
                             "journal_warning": None, "journal_language": None, "domestic": False}
    assert records[7] == records[3]


def test_columns_take_arrow_backed_and_plain_inputs_alike():
    table = small_table()
    issn_l = ["1674-1056", "0016-2361", None]
    issns = [["1674-1056"], ["0016-2361"], None]
    arrow = table.columns(pd.Series(issn_l, dtype=pd.ArrowDtype(pa.string())),
                          pd.Series(issns, dtype=pd.ArrowDtype(pa.list_(pa.string()))))
    plain = table.columns(issn_l, issns)
    assert arrow.to_dict("records") == plain.to_dict("records")
    assert plain["domestic"].tolist() == [True, False, False]
    assert JournalTable().columns(issn_l, issns)["journal_catalogues"].tolist() == [[], [], []]
    with pytest.raises(SelectionError, match="aligned"):
        table.columns(issn_l, issns[:2])


def test_resolver_takes_the_table_as_extra_overrides():
    table = small_table()
    assert table.as_resolver_overrides() == {"1674-1056": "11-5639/O4"}
    source = {"id": "S1", "issn_l": "2058-3834", "issn": ["2058-3834", "1674-1056"], "country_code": "GB"}
    assert JournalGroupResolver({}, {}).resolve(source) == ("international", "source_country")
    resolver = JournalGroupResolver({**load_overrides(), **table.as_resolver_overrides()}, {})
    assert resolver.resolve(source) == ("domestic", "override")


def test_the_table_round_trips_through_its_csv(tmp_path):
    path = tmp_path / "journals.csv"
    write_journal_table(small_table(), path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(TABLE_COLUMNS)
    loaded = load_journal_table(path)
    assert loaded.rows == small_table().rows
    merged, counts = merge_journal_lists(loaded, [], "tier", "T")
    assert (counts.new, counts.removed, counts.updated) == (0, 0, 2)  # two rows lose "T: ..."
    assert [row.issn for row in merged.rows] == ["0016-2361", "1000-3290", "1674-1056", "2058-3834", ""]


def test_harvest_journals_are_one_row_per_source(tmp_path):
    works = write_works(tmp_path / "works.parquet", [
        ("S3", "1000-3290", ["1000-3290"], "Acta", "domestic", "source_country", "zh-cn"),
        ("S3", "1000-3290", ["1000-3290"], "Acta", "domestic", "source_country", "en"),
        ("S3", "1000-3290", ["1000-3290"], "Acta", "domestic", "source_country", "zh-cn"),
        (None, "0016-2361", ["0016-2361"], "Fuel", "international", "default", None),
    ])
    harvest = read_harvest_journals(works)
    assert sorted(harvest.frame["issn_l"]) == ["0016-2361", "1000-3290"]
    table, counts, chinese = add_openalex_journals(JournalTable(), harvest)
    assert chinese == 1 and counts.new == 1
    assert table.rows[0].language == "zh"


def test_title_key_matches_list_and_openalex_spellings():
    assert title_key("NUMERICAL HEAT TRANSFER PART A-APPLICATIONS") == \
        title_key("Numerical Heat Transfer, Part A: Applications")
    assert title_key("CMES-COMPUTER MODELING IN ENGINEERING & SCIENCES") == \
        title_key("CMES - Computer Modeling in Engineering and Sciences")
    assert title_key("The Lancet") == title_key("LANCET")
    assert title_key("电子学报（英文）") != title_key("电子学报")


def test_columns_union_more_catalogues_than_one_mask_word_holds():
    names = [f"L{i:03d}" for i in range(70)]
    table = JournalTable([
        JournalRow(issn="1674-1056", catalogues=names[:40], source=["x"]),
        JournalRow(issn="2058-3834", catalogues=names[30:], source=["x"]),
        JournalRow(issn="0016-2361", catalogues=[names[69]], source=["x"]),
    ])
    columns = table.columns(["1674-1056", "2058-3834", "0016-2361"],
                            [["1674-1056", "2058-3834"], ["2058-3834"], None])
    assert columns["journal_catalogues"].tolist() == [names, names[30:], [names[69]]]
