"""Locale and timezone selection; one gettext catalog per domain package, merged at run time.

Each domain keeps ``conference_app/<domain>/translations/<lang>/LC_MESSAGES/messages.po``.
At start-up every catalog is compiled into the instance folder (only when the .po is newer)
and Flask-Babel is pointed at all of those folders; it merges them into one catalog.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask, current_app, has_request_context, session
from flask_login import current_user

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SESSION_KEY = "locale"


def select_locale() -> str:
    """The user's own choice, else the session's choice, else the default (zh_CN)."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in languages else default


def select_timezone() -> str:
    """Everyone sees times in Beijing time."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def source_catalogs() -> list[Path]:
    """Every domain's messages.po under conference_app/."""
    return sorted(PACKAGE_DIR.glob("**/translations/*/LC_MESSAGES/messages.po"))


def compile_catalogs(target_root: Path) -> list[Path]:
    """Compile each domain's catalogs below ``target_root/<domain>``; return those folders."""
    directories = []
    for po_path in source_catalogs():
        translations_dir = po_path.parents[2]
        domain = translations_dir.parent.relative_to(PACKAGE_DIR).as_posix().replace("/", ".")
        # Flask-Babel looks catalogs up by the parsed locale's name: zh_CN -> zh_Hans_CN.
        language = str(Locale.parse(po_path.parents[1].name))
        mo_path = target_root / domain / language / "LC_MESSAGES" / "messages.mo"
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            _write_mo(po_path, mo_path)
        if target_root / domain not in directories:
            directories.append(target_root / domain)
    return directories


def _write_mo(po_path: Path, mo_path: Path) -> None:
    with po_path.open("rb") as source:
        catalog = read_po(source)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a second process starting at the same moment never reads half a file.
    handle, temp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".tmp")
    with os.fdopen(handle, "wb") as target:
        write_mo(target, catalog)
    os.replace(temp_name, mo_path)


def init_app(app: Flask) -> None:
    """Compile the catalogs, then bind Flask-Babel to them with our selectors."""
    from conference_app.extensions import babel

    directories = compile_catalogs(Path(app.config["INSTANCE_DIR"]) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(path) for path in directories)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)


# --- maintaining the catalogs (flask --app conference_app translate update DOMAIN) -------

EXTRACT_KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
# The shared layout's files belong to the core catalog; every other domain owns its package
# and its templates folder.
CORE_FILES = ("conference_app/*.py", "templates/*.html", "templates/errors/**/*.html", "templates/macros/**/*.html")


def domain_files(domain: str) -> list[Path]:
    """The Python files and templates whose strings go into ``domain``'s catalog."""
    root = PACKAGE_DIR.parent
    patterns = [f"conference_app/{domain}/**/*.py", f"templates/{domain}/**/*.html"]
    if domain == "core":
        patterns += CORE_FILES
    return sorted({path for pattern in patterns for path in root.glob(pattern)})


def update_catalog(domain: str, language: str = "zh_CN") -> tuple[Path, int, int]:
    """Rewrite the domain's catalog from its source: new msgids added (empty), unused ones
    dropped, translations kept. Returns (path, messages, untranslated)."""
    root = PACKAGE_DIR.parent
    po_path = PACKAGE_DIR / domain / "translations" / language / "LC_MESSAGES" / "messages.po"
    old = Catalog(locale=language)
    if po_path.exists():
        with po_path.open("rb") as source:
            old = read_po(source)
    # The old creation date is kept, so an update with nothing new leaves the file unchanged.
    catalog = Catalog(locale=language, project="Capital Academic Platform", fuzzy=False,
                      copyright_holder="Beijing Association for Science and Technology",
                      creation_date=old.creation_date)
    for path in domain_files(domain):
        method = "python" if path.suffix == ".py" else "jinja2"
        relative = path.relative_to(root).as_posix()
        for lineno, msgid, comments, context in extract_from_file(method, str(path), keywords=EXTRACT_KEYWORDS):
            previous = old.get(msgid, context)
            string = previous.string if previous is not None and not previous.fuzzy else ""
            if isinstance(msgid, tuple) and not isinstance(string, tuple):
                string = (string, string) if string else ("", "")
            existing = catalog.get(msgid, context)
            if existing is not None:
                existing.locations.append((relative, lineno))
            else:
                catalog.add(msgid, string, locations=[(relative, lineno)], context=context)
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as target:
        write_po(target, catalog, width=100)
    messages = [message for message in catalog if message.id]
    untranslated = sum(1 for message in messages if not (message.string if isinstance(message.string, str)
                                                          else all(message.string)))
    return po_path, len(messages), untranslated
