"""The shared helpers every domain uses: Beijing time, text, tokens, uploads, enum columns, Excel."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from sqlalchemy import text
from werkzeug.datastructures import FileStorage

from conference_app.core import timeutil
from conference_app.core.excel import Column, workbook_bytes
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.core.tokens import TokenPurpose
from conference_app.core.uploads import send_upload, store_upload, upload_file
from conference_app.extensions import db
from conference_app.organisations.models import Organisation, OrganisationStatus

# --- Beijing time -----------------------------------------------------------------------


def test_the_beijing_day_starts_at_16_utc_the_day_before():
    start, end = timeutil.day_bounds(date(2026, 10, 1))
    assert start.astimezone(timezone.utc) == datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc)
    assert (end - start).total_seconds() == 24 * 3600
    assert timeutil.beijing_date(datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc)) == date(2026, 10, 1)
    assert timeutil.beijing_date(datetime(2026, 9, 30, 15, 59, tzinfo=timezone.utc)) == date(2026, 9, 30)


def test_today_follows_beijing_not_the_server(monkeypatch):
    monkeypatch.setattr(timeutil, "utcnow", lambda: datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc))
    assert timeutil.beijing_today() == date(2027, 1, 1)


# --- text -------------------------------------------------------------------------------


def test_clean_text_trims_and_refuses_what_cannot_be_stored(app):
    assert clean_text("  北京力学会 ", "名称", max_length=10) == "北京力学会"
    assert clean_text("   ", "名称") is None
    assert clean_text("第一行\n第二行\t!", "说明") == "第一行\n第二行\t!"
    with pytest.raises(ServiceError, match="不允许的字符"):
        clean_text("坏\x00字", "名称")
    with pytest.raises(ServiceError, match="不允许的字符"):
        clean_text("响铃\x07", "名称")
    with pytest.raises(ServiceError, match="最多 3 个字符"):
        clean_text("四个字符", "名称", max_length=3)
    with pytest.raises(ServiceError, match="请填写名称"):
        clean_text("", "名称", required=True)


# --- tokens -----------------------------------------------------------------------------

INVITE = TokenPurpose("test-invitation", max_age_seconds=60)
OTHER = TokenPurpose("test-other", max_age_seconds=60)


def test_a_token_opens_once_only_its_purpose_and_only_while_fresh(app, monkeypatch):
    STATES = {1: "v1"}
    token = INVITE.issue(1, STATES[1])
    assert INVITE.redeem(token, STATES.get) == 1
    assert OTHER.redeem(token, STATES.get) is None  # a token of one purpose opens no other
    assert INVITE.redeem(token[:-2] + "xx", STATES.get) is None  # tampered
    assert INVITE.redeem("garbage", STATES.get) is None
    STATES[1] = "v2"  # the subject moved on (the invitation was answered): the token is spent
    assert INVITE.redeem(token, STATES.get) is None
    assert INVITE.redeem(INVITE.issue(2, "x"), STATES.get) is None  # its subject is gone
    fresh = INVITE.issue(1, STATES[1])
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert INVITE.redeem(fresh, STATES.get) is None  # expired


def test_the_lifetime_can_come_from_a_setting(app):
    purpose = TokenPurpose("test-setting", max_age_setting="PASSWORD_RESET_MAX_AGE_SECONDS")
    assert purpose.max_age() == app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
    with pytest.raises(ValueError):
        TokenPurpose("test-none").max_age()


# --- uploads ----------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "报告.pdf", mimetype: str = "application/pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=mimetype)


def test_an_upload_is_checked_by_its_bytes_and_kept_outside_static(app):
    stored = store_upload(upload(PDF, "../../etc/批复文件.pdf"), "filings", ("pdf",))
    db.session.commit()
    path = Path(app.config["UPLOAD_DIR"]) / stored.path
    assert path.read_bytes() == PDF and stored.extension == "pdf" and stored.mime_type == "application/pdf"
    assert stored.original_name == "批复文件.pdf" and stored.size == len(PDF)
    assert "static" not in path.parts and path.name != "批复文件.pdf"  # a generated name
    assert store_upload(upload(xlsx_bytes(), "名单.xlsx"), "lists", ("xlsx", "pdf")).extension == "xlsx"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00" + b"\x00" * 200, "innocent.pdf"),  # a Windows program named .pdf
        (b"<html><script>alert(1)</script></html>", "page.pdf"),
        (zipfile.ZipFile.__name__.encode() * 10, "archive.pdf"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(app, data, name):
    with pytest.raises(ServiceError, match="文件类型不符合要求"):
        store_upload(upload(data, name), "filings", ("pdf",))


def test_size_and_emptiness_are_checked(app):
    with pytest.raises(ServiceError, match="文件超过") as too_big:
        store_upload(upload(PDF + b"0" * 2000), "filings", ("pdf",), max_bytes=1024)
    assert too_big.value.status == 413
    with pytest.raises(ServiceError, match="文件为空"):
        store_upload(upload(b""), "filings", ("pdf",))
    with pytest.raises(ServiceError, match="请选择文件"):
        store_upload(None, "filings", ("pdf",))


def test_a_rolled_back_upload_leaves_no_file(app):
    stored = store_upload(upload(PDF), "filings", ("pdf",))
    path = Path(app.config["UPLOAD_DIR"]) / stored.path
    assert path.exists()
    db.session.rollback()
    assert not path.exists()


def test_a_download_is_an_attachment_and_never_leaves_the_upload_folder(app):
    from werkzeug.exceptions import NotFound

    stored = store_upload(upload(PDF), "filings", ("pdf",))
    db.session.commit()
    with app.test_request_context():
        response = send_upload(stored)
        assert response.headers["Content-Disposition"].startswith("attachment")
        response.close()
        for bad in ("../secret_key", "/etc/passwd", "filings/../../secret_key", "filings/none.pdf"):
            with pytest.raises(NotFound):
                upload_file(bad)


# --- titled enum columns ------------------------------------------------------------------


def test_an_enum_column_reads_back_members_and_refuses_unknown_values(app, make_organisation):
    organisation = make_organisation(status="pending")
    db.session.expire_all()
    assert organisation.status is OrganisationStatus.PENDING
    assert organisation.status == "pending" and organisation.status.title == "待审核"
    stored = db.session.execute(text("SELECT status FROM organisations WHERE id = :id"), {"id": organisation.id})
    assert stored.scalar() == "pending"
    organisation.status = "archived"
    with pytest.raises(Exception, match="archived"):
        db.session.flush()
    db.session.rollback()


# --- Excel ------------------------------------------------------------------------------


def test_the_staff_list_writer_gives_chinese_headers_beijing_times_and_text_cells(app):
    rows = [{"name": "=HYPERLINK(\"http://x\")", "at": datetime(2026, 3, 1, 17, 30, tzinfo=timezone.utc), "n": 3}]
    columns = [Column(_l("Name"), lambda r: r["name"], 20), Column(_l("Time (Beijing)"), lambda r: r["at"]),
               Column("Count", lambda r: r["n"])]
    sheet = load_workbook(io.BytesIO(workbook_bytes(_l("Users"), columns, rows))).active
    assert [cell.value for cell in sheet[1]] == ["姓名", "时间（北京时间）", "Count"]
    name, at, count = sheet[2]
    assert name.data_type == "s" and name.value.startswith("=") and name.quotePrefix
    assert at.value == datetime(2026, 3, 2, 1, 30) and count.value == 3
    assert sheet.freeze_panes == "A2" and sheet.title == "用户"
    assert isinstance(Organisation.__table__.c.status.type.impl.length, int)
