"""One unit of work per request: committed in one place on success, rolled back on refusal.

Every check reads the database through a new engine, so it sees only what was committed,
never what the test's own session still holds. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
from flask import abort
from sqlalchemy import create_engine, func, select, text

from conference_app import create_app
from conference_app.core import mail
from conference_app.core.db import keep_changes, unit_of_work
from conference_app.core.permissions import public
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.organisations import services as organisations
from conference_app.organisations.credit_code import make_credit_code
from conference_app.organisations.models import Organisation
from tests.app.conftest import FreshGlobalsClient, app_settings
from tests.conftest import REPO_ROOT

_numbers = itertools.count(1)


def committed_names(database_url: str) -> set[str]:
    """The organisation names committed to the database, read on a connection of its own."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(select(Organisation.name_zh)))
    finally:
        engine.dispose()


def add_organisation(name: str) -> Organisation:
    number = next(_numbers)
    return organisations.create_organisation(
        {"name_zh": name, "org_type": "society", "credit_code": make_credit_code(f"51110000{number:09d}")}
    )


@pytest.fixture()
def pipeline_app(app, database_url, tmp_path):
    """An app with routes that write and then answer in each way a view can."""
    fresh = create_app(app_settings(database_url, tmp_path / "instance")
                       | {"PROPAGATE_EXCEPTIONS": False, "MAIL_OUTBOX_DIR": app.config["MAIL_OUTBOX_DIR"]})
    fresh.test_client_class = FreshGlobalsClient

    def route(path):
        def register(view):
            return fresh.post(path, endpoint=path.strip("/"))(public(view))

        return register

    @route("/ok")
    def ok():
        add_organisation("成功的单位")
        mail.send("someone@example.cn", "done", "committed")
        return "saved"

    @route("/refused")
    def refused():
        add_organisation("被拒绝的单位")
        mail.send("someone@example.cn", "never", "rolled back")
        return "no", 400

    @route("/service-error")
    def service_error():
        add_organisation("规则拒绝的单位")
        raise ServiceError("不行")

    @route("/forbidden")
    def forbidden():
        add_organisation("无权限的单位")
        abort(403)

    @route("/crash")
    def crash():
        add_organisation("出错的单位")
        raise RuntimeError("a bug")

    @route("/kept")
    def kept():
        add_organisation("保留的单位")
        keep_changes()
        return "refused, but it counts", 429

    fresh.config["WTF_CSRF_ENABLED"] = False
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    ("path", "status", "committed"),
    [
        ("/ok", 200, {"成功的单位"}),
        ("/refused", 400, set()),
        ("/service-error", 400, set()),
        ("/forbidden", 403, set()),
        ("/crash", 500, set()),
        ("/kept", 429, {"保留的单位"}),
    ],
)
def test_a_request_commits_on_success_and_rolls_back_on_refusal(pipeline_app, database_url, outbox, path, status,
                                                               committed):
    with pipeline_app.app_context():
        response = pipeline_app.test_client().post(path)
    assert response.status_code == status
    assert committed_names(database_url) == committed
    sent = [message["Subject"] for message in outbox()]
    assert sent == (["done"] if path == "/ok" else [])


def test_a_refused_form_leaves_nothing_and_a_good_one_commits(app, client, auth, make_user, make_organisation,
                                                             database_url):
    """Through real pages: a refused edit writes nothing, not even an audit entry; a good one is committed."""
    from tests.app.helpers import csrf_token

    auth.login(make_user("staff").email)
    organisation = make_organisation(name_zh="北京力学会")
    url = f"/organisations/{organisation.id}/edit"
    fields = {"name_zh": "北京力学会", "org_type": "society", "credit_code": organisation.credit_code}
    refused = client.post(url, data=fields | {"contact_email": "not an address", "csrf_token": csrf_token(client, url)})
    assert refused.status_code == 400

    def committed_contact_and_entries():
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                contact = connection.scalar(text("SELECT contact_name FROM organisations WHERE id = :id"),
                                            {"id": organisation.id})
                entries = connection.scalar(text("SELECT count(*) FROM audit_entries WHERE action = 'organisation.updated'"))
                return contact, entries
        finally:
            engine.dispose()

    assert committed_contact_and_entries() == (None, 0)
    saved = client.post(url, data=fields | {"contact_name": "韩秘书长", "csrf_token": csrf_token(client, url)})
    assert saved.status_code == 302
    assert committed_contact_and_entries() == ("韩秘书长", 1)


def test_unit_of_work_commits_the_block_or_nothing(app, database_url):
    with unit_of_work():
        add_organisation("命令行单位")
    with pytest.raises(ServiceError):
        with unit_of_work():
            add_organisation("半途而废的单位")
            raise ServiceError("stop")
    assert committed_names(database_url) == {"命令行单位"}


def _commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def test_nothing_but_the_pipeline_commits():
    """Views, services, the command line and the demo loader never call commit themselves."""
    package = REPO_ROOT / "conference_app"
    found = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in package.rglob("*.py")
        if path != package / "core" / "db.py" and (lines := _commit_calls(path))
    }
    assert found == {}
    assert _commit_calls(package / "core" / "db.py"), "core.db must hold the one commit"


def test_the_commit_check_sees_a_commit(tmp_path):
    offender = tmp_path / "views.py"
    offender.write_text("def save():\n    db.session.commit()\n")
    assert _commit_calls(offender) == [2]


def test_the_number_of_organisations_is_unchanged_by_a_crash(pipeline_app):
    """The 500 page itself is rendered after the rollback (no half-written session)."""
    with pipeline_app.app_context():
        client = pipeline_app.test_client()
        assert client.post("/crash").status_code == 500
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0
