"""Chinese by default, English per user, Beijing time, CNY, and every UI string translated."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import render_template_string

from conference_app.accounts.models import User
from conference_app.core.i18n import domain_files, source_catalogs
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token
from tests.conftest import REPO_ROOT

KEYWORDS = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)


def choose_language(client, locale: str, next_url: str = "/"):
    token = csrf_token(client, "/auth/reset")
    return client.post("/language", data={"locale": locale, "next": next_url, "csrf_token": token})


def test_chinese_is_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "首都学术平台" in html and "登录" in html


def test_a_visitor_switches_to_english_for_the_session(client):
    response = choose_language(client, "en", "/auth/login")
    assert response.location == "/auth/login"
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html and "登录" not in html


def test_a_user_switches_to_english_for_good(client, make_user):
    user = make_user(Role.EXPERT)
    log_in_session(client, user)
    choose_language(client, "en")
    assert db.session.get(User, user.id).locale == "en"
    other_browser = client.application.test_client()
    log_in_session(other_browser, user)
    assert "No review is assigned to you yet." in other_browser.get("/home").get_data(as_text=True)


def test_unknown_language_and_foreign_next_are_refused(client):
    response = choose_language(client, "tlh")
    assert response.status_code == 400 and "不支持的语言" in response.get_data(as_text=True)
    assert choose_language(client, "en", "//evil.example.com/").location == "/"


def test_datetimes_are_shown_in_beijing_time(app):
    moment = datetime(2026, 1, 1, 16, 30, tzinfo=timezone.utc)
    with app.test_request_context():
        assert render_template_string("{{ moment|local_datetime }}", moment=moment) == "2026-01-02 00:30"
        assert render_template_string("{{ moment|local_date }}", moment=moment) == "2026-01-02"
        assert render_template_string("{{ none|local_datetime }}", none=None) == ""


@pytest.mark.parametrize(
    ("fen", "shown"), [(123400, "¥1,234.00"), (5, "¥0.05"), (-250, "-¥2.50"), (0, "¥0.00"), (None, "")]
)
def test_money_is_shown_in_yuan(app, fen, shown):
    with app.test_request_context():
        assert render_template_string("{{ fen|money }}", fen=fen) == shown


def extracted_msgids() -> dict[str, str]:
    """msgid -> where it is used, from the app's Python files and templates (babel.cfg)."""
    with (REPO_ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO_ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=lambda path: path.rstrip("/").split("/")[-1] not in {".venv", ".git", "node_modules"},
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def zh_catalog() -> dict[str, str]:
    """Every domain's zh_CN translations merged, without fuzzy ones."""
    merged = {}
    for path in source_catalogs():
        if path.parents[1].name != "zh_CN":
            continue
        with path.open("rb") as source:
            for message in read_po(source):
                if message.id and not message.fuzzy:
                    text = message.string if isinstance(message.string, str) else message.string[0]
                    merged[message.id if isinstance(message.id, str) else message.id[0]] = text
    return merged


def test_every_ui_string_has_a_chinese_translation():
    msgids = extracted_msgids()
    assert len(msgids) > 100  # the extraction did find the app's strings
    translated = zh_catalog()
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in msgids.items() if not translated.get(msgid))
    assert missing == [], "untranslated (add them to the domain's zh_CN messages.po):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    problems = []
    for path in source_catalogs():
        with path.open("rb") as source:
            catalog = read_po(source)
        for message, errors in catalog.check():
            problems += [f"{path}: {message.id!r}: {error}" for error in errors]
    assert problems == []


def test_catalog_maintenance_covers_the_shared_layout():
    core = {path.relative_to(REPO_ROOT).as_posix() for path in domain_files("core")}
    assert {"templates/base.html", "templates/macros/forms.html", "conference_app/cli.py",
            "conference_app/core/errors.py", "templates/core/index.html"} <= core
    accounts = {path.relative_to(REPO_ROOT).as_posix() for path in domain_files("accounts")}
    assert "templates/accounts/login.html" in accounts and "templates/base.html" not in accounts


def test_a_msgid_reads_the_same_in_every_catalog():
    seen: dict[str, dict[str, str]] = {}
    for path in source_catalogs():
        with path.open("rb") as source:
            for message in read_po(source):
                if message.id and isinstance(message.string, str) and message.string:
                    seen.setdefault(message.id, {})[str(path.relative_to(REPO_ROOT))] = message.string
    conflicts = {msgid: where for msgid, where in seen.items() if len(set(where.values())) > 1}
    assert conflicts == {}
