"""In tests, a unit of work that changes audited rows without an audit entry fails."""

from __future__ import annotations

import pytest

from conference_app import create_app
from conference_app.audit.guard import UnauditedChange
from conference_app.audit.services import record
from conference_app.core.db import unit_of_work
from conference_app.core.permissions import public
from conference_app.extensions import db
from conference_app.organisations.models import Organisation
from tests.app.conftest import FreshGlobalsClient, app_settings


@pytest.fixture()
def guarded_app(app, database_url, tmp_path):
    fresh = create_app(app_settings(database_url, tmp_path / "instance") | {"WTF_CSRF_ENABLED": False})
    fresh.test_client_class = FreshGlobalsClient

    @fresh.post("/silent/<int:org_id>")
    @public
    def silent(org_id):
        db.session.get(Organisation, org_id).contact_name = "悄悄改了"
        return "changed"

    @fresh.post("/logged/<int:org_id>")
    @public
    def logged(org_id):
        organisation = db.session.get(Organisation, org_id)
        organisation.contact_name = "记录在案"
        record("organisation.updated", organisation)
        return "changed"

    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_request_changing_an_audited_row_silently_fails(guarded_app, make_organisation):
    organisation = make_organisation()
    with guarded_app.app_context():
        client = guarded_app.test_client()
        with pytest.raises(UnauditedChange, match=f"Organisation {organisation.id}: contact_name"):
            client.post(f"/silent/{organisation.id}")
        db.session.rollback()
        assert client.post(f"/logged/{organisation.id}").status_code == 200


def test_a_command_changing_an_audited_row_silently_fails(app, make_organisation):
    organisation = make_organisation()
    with pytest.raises(UnauditedChange):
        with unit_of_work():
            organisation.address = "无人知晓"


def test_exempt_columns_and_unaudited_tables_need_no_entry(app, make_user):
    from conference_app.accounts.models import LoginFailure

    user = make_user("expert")
    with unit_of_work():
        user.locale = "en"  # the chosen language is no decision
        db.session.add(LoginFailure(ip_address="", email="x@example.cn"))
    db.session.expire_all()
    assert user.locale == "en"
