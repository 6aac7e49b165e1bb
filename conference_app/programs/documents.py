"""The length of a project's documents (summary reports, research reports ...) in Chinese
characters, read from their DOCX or PDF files."""

from __future__ import annotations

import io
import re

import docx
import pypdf
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from pypdf.errors import FileNotDecryptedError

# CJK Unified Ideographs (U+4E00-U+9FFF), Extension A (U+3400-U+4DBF), Compatibility Ideographs (U+F900-U+FAFF).
HAN_CHARACTER = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class DocumentUnreadable(Exception):
    """The file cannot be read as the document it claims to be (the message is Chinese)."""


def count_chinese_characters(text: str) -> int:
    """The number of Han characters in ``text``: the CJK Unified Ideographs (U+4E00-U+9FFF),
    their Extension A (U+3400-U+4DBF) and the CJK Compatibility Ideographs (U+F900-U+FAFF).
    Nothing else counts: not punctuation (Chinese or not), Latin letters, digits, spaces,
    kana or hangul."""
    return len(HAN_CHARACTER.findall(text))


def document_text(data: bytes, kind: str) -> str:
    """The text of a "docx" (every paragraph of the body, those in table cells included, each
    cell once; no headers or footers) or "pdf" (every page) file; DocumentUnreadable when it is damaged."""
    if kind == "docx":
        return _docx_text(data)
    if kind == "pdf":
        return _pdf_text(data)
    raise ValueError(f"unknown document kind: {kind!r}")


def count_document(data: bytes, kind: str) -> int:
    """The Chinese characters of a DOCX or PDF file (see ``count_chinese_characters``)."""
    return count_chinese_characters(document_text(data, kind))


def _docx_text(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # a damaged file fails in many ways (zip, XML, package parts)
        raise DocumentUnreadable("无法读取该 Word（DOCX）文件：文件已损坏或不是 DOCX 格式") from error
    # Walking the paragraphs of the body's XML reaches the ones inside tables (nested too) once each,
    # where row.cells would repeat a merged cell.
    body = document.element.body
    return "\n".join(Paragraph(element, document).text for element in body.iter(qn("w:p")))


def _pdf_text(data: bytes) -> str:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")  # opens a file locked only against editing
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except FileNotDecryptedError as error:
        raise DocumentUnreadable("无法读取该 PDF 文件：文件已加密") from error
    except Exception as error:  # a damaged file fails in many ways (structure, streams, fonts)
        raise DocumentUnreadable("无法读取该 PDF 文件：文件已损坏或不是 PDF 格式") from error
