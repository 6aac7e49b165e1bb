"""What every page's layout needs: navigation by permission, languages, display filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel import Locale, dates
from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user

from conference_app.core.forms import filter_args
from conference_app.core.i18n import select_locale
from conference_app.core.permissions import user_can
from conference_app.core.timeutil import BEIJING


@dataclass(frozen=True)
class NavItem:
    """A navbar link, shown to users holding ``permission`` (to everyone when it is None)."""

    label: object
    endpoint: str
    permission: str | None
    order: int = 100
    group: str | None = None  # a key of NAV_GROUPS: the link sits in that group's dropdown


@dataclass(frozen=True)
class NavGroup:
    """A navbar dropdown of the links of one group a user may follow (a lone link shows as itself)."""

    key: str
    label: object
    items: list[NavItem]


NAV_ITEMS: list[NavItem] = []
NAV_GROUPS: dict[str, object] = {}


def register_nav_item(label, endpoint: str, permission: str | None, order: int = 100,
                      group: str | None = None) -> None:
    """Add a navbar link shown to users holding ``permission``, or to everyone for None
    (a public page), in the dropdown of ``group`` when given; call at import time."""
    if all(item.endpoint != endpoint for item in NAV_ITEMS):
        NAV_ITEMS.append(NavItem(label, endpoint, permission, order, group))
        NAV_ITEMS.sort(key=lambda item: item.order)


def register_nav_group(key: str, label) -> None:
    """Name a navbar dropdown; it sits where its first link's order puts it."""
    NAV_GROUPS.setdefault(key, label)


def navigation() -> list[NavItem | NavGroup]:
    """The navbar: the links the current user may follow, those of a group gathered in its
    dropdown where the group's first link stands (a group with one link shows the link)."""
    visible = [
        item
        for item in NAV_ITEMS
        if item.endpoint in current_app.view_functions
        and (item.permission is None or user_can(current_user, item.permission))
    ]
    entries: list[NavItem | NavGroup] = []
    groups: dict[str, NavGroup] = {}
    for item in visible:
        if item.group is None:
            entries.append(item)
        elif item.group in groups:
            groups[item.group].items.append(item)
        else:
            groups[item.group] = NavGroup(item.group, NAV_GROUPS[item.group], [item])
            entries.append(groups[item.group])
    return [entry.items[0] if isinstance(entry, NavGroup) and len(entry.items) == 1 else entry
            for entry in entries]


@dataclass(frozen=True)
class PageSection:
    """A part of a page that another domain contributes, shown to users holding ``permission``
    (on the page's object, when it has one).

    ``page`` names the page ("home", "organisation" ...); ``template`` is rendered with what
    ``context(obj)`` returns (as ``c``; None leaves the section out); on the home page "card" sections sit side by side at
    the top (counts, links) and "panel" sections below them, each in ``order``.
    """

    page: str
    permission: str
    template: str
    context: Callable[[object], dict] | None = None
    order: int = 100
    kind: str = "panel"


PAGE_SECTIONS: list[PageSection] = []


def register_page_section(
    page: str, permission: str, template: str, context: Callable[[object], dict] | None = None,
    order: int = 100, kind: str = "panel",
) -> None:
    """Add a section to ``page`` (call at import time of the domain's permissions module);
    ``context`` receives the page's object (None on the home page)."""
    if kind not in ("card", "panel"):
        raise ValueError(f"page section kind must be card or panel, not {kind!r}")
    if all(section.template != template for section in PAGE_SECTIONS):
        PAGE_SECTIONS.append(PageSection(page, permission, template, context, order, kind))
        PAGE_SECTIONS.sort(key=lambda section: section.order)


def register_home_section(
    permission: str, template: str, context: Callable[[], dict] | None = None, order: int = 100, kind: str = "panel"
) -> None:
    """A section of the home page; ``context`` takes no argument."""
    register_page_section("home", permission, template, (lambda _obj: context()) if context else None, order, kind)


def page_sections(page: str, user, obj=None) -> list[tuple[PageSection, dict]]:
    """The sections of ``page`` that ``user`` may see (on ``obj``), each with its template
    context; a section whose context is None has nothing to show now and is left out."""
    found = []
    for section in PAGE_SECTIONS:
        if section.page != page or not user_can(user, section.permission, obj):
            continue
        context = section.context(obj) if section.context else {}
        if context is not None:
            found.append((section, context))
    return found


def _reader_locale() -> Locale:
    """The request's Babel locale, looked up once per request (pages format many dates)."""
    if not has_request_context():
        return Locale.parse(select_locale())
    if "reader_locale" not in g:
        g.reader_locale = Locale.parse(select_locale())
    return g.reader_locale


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A timezone-aware datetime shown in Beijing time (Asia/Shanghai), in the reader's language.

    Babel formats it; the locale is looked up once per request and the zone converted
    directly, which makes a page of many dates several times cheaper than Flask-Babel's
    per-call lookups.
    """
    if value is None:
        return ""
    return dates.format_datetime(value.astimezone(BEIJING), fmt, tzinfo=BEIJING, locale=_reader_locale())


def local_date(value: date | datetime | None, fmt: str = "yyyy-MM-dd") -> str:
    """A date, or the Beijing calendar day of a datetime."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(BEIJING).date()
    return dates.format_date(value, fmt, locale=_reader_locale())


def money(fen: int | None) -> str:
    """Integer fen as yuan: 123400 -> "¥1,234.00"."""
    if fen is None:
        return ""
    yuan = Decimal(int(fen)) / 100
    sign = "-" if yuan < 0 else ""
    return f"{sign}¥{abs(yuan):,.2f}"


def _layout_context() -> dict:
    return {
        "nav_items": navigation() if request else [],
        "languages": current_app.config["LANGUAGES"],
        "current_locale": select_locale(),
    }


def init_app(app: Flask) -> None:
    app.context_processor(_layout_context)
    app.add_template_filter(local_datetime)
    app.add_template_filter(local_date)
    app.add_template_filter(money)
    app.add_template_global(filter_args)
    app.add_template_global(page_sections)

