"""Odd query strings, huge ids and huge page numbers get a page or a 404, never a 500."""

from __future__ import annotations

import re

import pytest

from conference_app.audit.services import record
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token

INT4_MAX = 2_147_483_647
HUGE_PAGE = "99999999999999999999"


@pytest.fixture()
def staff_client(client, make_user):
    log_in_session(client, make_user(Role.STAFF))
    return client


@pytest.fixture()
def many_rows(make_user, make_organisation):
    """More than one page of users, organisations and audit entries."""
    for _ in range(21):
        make_organisation()
    experts = [make_user(Role.EXPERT) for _ in range(26)]
    for _ in range(2):
        for expert in experts:
            record("user.updated", expert)
    db.session.commit()


LIST_PAGES = ["/audit/", "/admin/users", "/organisations/"]
ODD_ARGS = ["endpoint=x", "_method=PUT", "_external=1&_scheme=javascript&_anchor=%0Aalert(1)", "values=1", "page=2&endpoint=x"]


@pytest.mark.parametrize("path", LIST_PAGES)
@pytest.mark.parametrize("query", ODD_ARGS)
def test_unknown_query_keys_never_reach_url_for(staff_client, many_rows, path, query):
    response = staff_client.get(f"{path}?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    links = re.findall(r'href="([^"]*\?[^"]*)"', html)
    assert not any("endpoint=" in link or "_method" in link or "javascript" in link for link in links)


def test_pager_and_export_links_keep_the_filters(staff_client, many_rows):
    html = staff_client.get("/admin/users?role=expert&endpoint=x").get_data(as_text=True)
    assert "/admin/users?role=expert&amp;page=2" in html
    html = staff_client.get("/audit/?action=user.updated&_method=PUT").get_data(as_text=True)
    assert "/audit/export.xlsx?action=user.updated" in html and "/audit/?action=user.updated&amp;page=2" in html


@pytest.mark.parametrize("path", LIST_PAGES)
@pytest.mark.parametrize("page", [HUGE_PAGE, str(INT4_MAX + 1), "-5", "0"])
def test_out_of_range_page_numbers_show_a_page(staff_client, many_rows, path, page):
    assert staff_client.get(f"{path}?page={page}").status_code == 200


def test_clamp_page_number():
    from conference_app.core.db import MAX_PAGE, page_number

    assert page_number(None) == 1 and page_number("abc") == 1 and page_number("-3") == 1 and page_number("0") == 1
    assert page_number("7") == 7 and page_number(HUGE_PAGE) == MAX_PAGE


@pytest.mark.parametrize("path", [
    "/organisations/{id}", "/organisations/{id}/edit", "/admin/users/{id}/edit",
    "/organisations/{id}/events/1", "/admin/users/{id}/disable",
])
@pytest.mark.parametrize("big_id", [INT4_MAX + 1, 99999999999999999999])
def test_ids_past_int4_are_404(staff_client, make_organisation, path, big_id):
    organisation = make_organisation()
    url = path.format(id=big_id)
    if url.endswith("/events/1"):
        url = f"/organisations/{organisation.id}/events/{big_id}/delete"
    method = staff_client.post if url.endswith(("/delete", "/disable")) else staff_client.get
    data = {"csrf_token": csrf_token(staff_client, "/home")} if method == staff_client.post else None
    assert method(url, data=data).status_code == 404


def test_every_id_route_uses_the_id_converter(app):
    """No route takes a plain <int:...> that a huge number would carry to the database."""
    from conference_app.core.db import IdConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if name.endswith("_id"):
                assert isinstance(converter, IdConverter), f"{rule.rule}: {name} is not an <id:...>"


def test_search_wildcards_match_only_themselves(make_user, make_organisation):
    """A "%" or "_" typed into a search box is a character, not a LIKE wildcard."""
    from conference_app.accounts.services import users_query
    from conference_app.audit.services import entries_query
    from conference_app.organisations.services import organisation_query

    plain = make_user(Role.EXPERT, name="Plain Name", email="plain@example.cn")
    odd = make_user(Role.EXPERT, name="100% sure_thing", email="odd_one@example.cn")
    make_organisation(name_zh="普通学会", name_en="Plain Society")
    make_organisation(name_zh="百分百学会", name_en="Society 100% _x")
    record("user.updated", plain, actor=plain)
    record("user.updated", odd, actor=odd)
    db.session.commit()

    def names(query, attribute):
        return sorted(getattr(row, attribute) for row in db.session.scalars(query))

    assert names(users_query("%"), "name") == ["100% sure_thing"]
    assert names(users_query("_"), "name") == ["100% sure_thing"]
    assert names(users_query("E_THING"), "name") == ["100% sure_thing"]  # still ignores case
    assert names(organisation_query(search="%"), "name_en") == ["Society 100% _x"]
    assert names(organisation_query(search="_"), "name_en") == ["Society 100% _x"]
    assert [entry.actor_label for entry in db.session.scalars(entries_query(actor="%"))] == [odd.audit_label]
    assert names(users_query("\\"), "name") == []
