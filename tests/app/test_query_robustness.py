"""Odd query strings, huge ids and huge page numbers get a page or a 404, never a 500."""

from __future__ import annotations

import re

import pytest

from conference_app.audit.services import record
from conference_app.core.permissions import Role
from conference_app.extensions import db
from tests.app.conftest import log_in_session

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
