"""No N+1: the SQL statements a list page issues do not grow with the rows it shows."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from conference_app.audit.services import record
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations.models import PastEvent
from tests.app.conftest import log_in_session

FEW, MANY = 3, 30


@contextmanager
def counted_statements():
    """Count the statements sent to the database inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def statements_for(client, url: str) -> int:
    db.session.expire_all()
    with counted_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(statements)


def add_organisations(make_organisation, make_user, count: int) -> None:
    """Organisations each with an administrator, a member and past events."""
    for _ in range(count):
        organisation = make_organisation()
        make_user(Role.SOCIETY, organisation=organisation, is_org_admin=True)
        make_user(Role.SOCIETY, organisation=organisation)
        db.session.add_all(
            PastEvent(organisation=organisation, year=2024, kind=kind, title=f"{kind} {organisation.id}", role="host")
            for kind in ("international", "regional")
        )
    db.session.commit()


def add_audit_entries(actor, count: int) -> None:
    for number in range(count):
        record("user.updated", actor, actor=actor, from_state="a", to_state="b", comment=f"#{number}")
    db.session.commit()


PAGES = {
    "organisations": ("/organisations/", add_organisations),
    "users": ("/admin/users", add_organisations),
    "audit": ("/audit/", None),
    "staff home": ("/home", None),
    "organisations export": ("/organisations/export.xlsx", add_organisations),
    "users export": ("/admin/users/export.xlsx", add_organisations),
    "audit export": ("/audit/export.xlsx", None),
}


@pytest.mark.parametrize("page", PAGES)
def test_list_pages_issue_the_same_statements_for_few_and_many_rows(app, client, make_user, make_organisation, page):
    url, add_rows = PAGES[page]
    staff = make_user(Role.STAFF)
    log_in_session(client, staff)

    def grow_to(count: int) -> None:
        if add_rows is None:
            add_audit_entries(staff, count)
        else:
            add_rows(make_organisation, make_user, count)

    grow_to(FEW)
    few = statements_for(client, url)
    grow_to(MANY - FEW)
    many = statements_for(client, url)
    assert many == few, f"{url}: {few} statements with {FEW} rows, {many} with {MANY}"


def test_organisation_page_does_not_query_per_member_or_event(app, client, make_user, make_organisation):
    staff = make_user(Role.STAFF)
    log_in_session(client, staff)
    small, large = make_organisation(), make_organisation()
    for organisation, members in ((small, 1), (large, 20)):
        for _ in range(members):
            make_user(Role.SOCIETY, organisation=organisation)
        db.session.add_all(
            PastEvent(organisation=organisation, year=2020 + n % 5, kind="national", title=f"event {n}", role="host")
            for n in range(members)
        )
    db.session.commit()
    assert statements_for(client, f"/organisations/{large.id}") == statements_for(client, f"/organisations/{small.id}")
