"""Counting the Chinese characters of documents, from real DOCX and PDF files."""

from __future__ import annotations

import io

import docx
import pytest
import weasyprint

from conference_app.programs.documents import (
    DocumentUnreadable,
    count_chinese_characters,
    count_document,
    document_text,
)


@pytest.mark.parametrize("text, count", [
    ("", 0),
    ("北京市科学技术协会", 9),
    ("2026年，项目总结（Summary）报告！", 7),  # digits, Latin, Chinese and ASCII punctuation do not count
    ("“学术”、《沙龙》……——；：？", 4),
    ("１２３ＡＢＣ　", 0),  # full-width digits, letters and the ideographic space
    ("㐀㐁", 2),  # Extension A
    ("\uf900\uf901", 2),  # CJK Compatibility Ideographs
    ("ひらがなカタカナ한글", 0),
])
def test_count_chinese_characters(text, count):
    assert count_chinese_characters(text) == count


def docx_bytes() -> bytes:
    """Body paragraphs (5 + 4 characters), a table with a merged cell (3 + 2) and a nested table (2)."""
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "页眉不计"
    document.add_paragraph("项目总结报")
    document.add_paragraph("Summary 2026：成果丰硕。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "合并格"
    table.cell(1, 0).text = "左格"
    table.cell(1, 1).add_table(rows=1, cols=1).cell(0, 0).text = "嵌套"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_table_cells_each_once():
    data = docx_bytes()
    text = document_text(data, "docx")
    assert "项目总结报" in text and "合并格" in text and "嵌套" in text
    assert "页眉" not in text
    assert count_document(data, "docx") == 5 + 4 + 3 + 2 + 2


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    """Two pages of Chinese in the machine's CJK font: 10 + 8 Han characters."""
    html = """<html><body style="font-family: 'WenQuanYi Micro Hei'">
        <p>首都学术培优项目总结：2026 年</p>
        <p style="page-break-before: always">沙龙共举办四期（Salon）。</p>
    </body></html>"""
    return weasyprint.HTML(string=html).write_pdf()


def test_pdf_text_of_every_page(pdf_bytes):
    text = document_text(pdf_bytes, "pdf")
    assert "首都学术培优" in text and "沙龙" in text
    assert count_document(pdf_bytes, "pdf") == 18


@pytest.mark.parametrize("data, kind, message", [
    (b"not a zip at all", "docx", "DOCX"),
    (b"PK\x03\x04 truncated zip", "docx", "DOCX"),
    (b"%PDF-1.7\n garbage without objects", "pdf", "PDF"),
    (b"", "pdf", "PDF"),
])
def test_a_corrupt_file_is_unreadable(data, kind, message):
    with pytest.raises(DocumentUnreadable, match=message) as raised:
        document_text(data, kind)
    assert "无法读取" in str(raised.value)


def test_a_pdf_given_as_docx_is_unreadable(pdf_bytes):
    with pytest.raises(DocumentUnreadable):
        count_document(pdf_bytes, "docx")
    with pytest.raises(DocumentUnreadable):
        count_document(docx_bytes(), "pdf")


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown document kind"):
        document_text(b"", "odt")
