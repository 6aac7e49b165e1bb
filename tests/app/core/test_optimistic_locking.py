"""Optimistic locking: a stale edit is refused with a message, never silently overwriting.

Two people open the same record's edit form; the first saves; the second's save is refused
(409, nothing written, no audit entry) until they reload. A write that finds the row changed
between the check and the flush (``StaleDataError``) is refused the same way, not a 500.
Both backends (``TEST_DATABASE_URL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from typing import Callable

import pytest
from sqlalchemy import func, select, update

from conference_app.accounts import services as account_services
from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core import views as core_views
from conference_app.core.permissions import Role
from conference_app.events.models import AcademicMonthEdition, Event, EventPerson, SalonSeries
from conference_app.extensions import db
from conference_app.organisations import services as organisation_services
from conference_app.organisations.models import Organisation
from conference_app.panels.models import ExpertProfile
from conference_app.programs.models import Application
from tests.app.conftest import log_in_session
from tests.app.events.series_helpers import make_series
from tests.app.helpers import csrf_token
from tests.app.programs.helpers import category, draft, eligible_organisation, open_call

STALE_MESSAGE = "该记录已被他人修改，请刷新页面后重新编辑。"


class _PageForms(HTMLParser):
    """Every form of a page, with its fields as a browser would post them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, list[str]]] = []
        self._form: dict[str, list[str]] | None = None
        self._select: tuple[str, list[str]] | None = None  # name, values of its selected options
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {}
        elif self._form is None:
            return
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = attrs.get("value", "")
            if "selected" in attrs:
                self._select[1].append(attrs.get("value", ""))
        elif "name" not in attrs:
            return
        elif tag == "input" and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self._form.setdefault(attrs["name"], []).append(attrs.get("value") or "")
        elif tag == "select":
            self._select, self._first_option = (attrs["name"], []), None
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form[self._textarea] = [""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._form[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            # A browser drops the newline that follows <textarea>.
            self._form[self._textarea][0] = self._form[self._textarea][0].removeprefix("\r\n").removeprefix("\n")
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, selected = self._select
            self._form[name] = selected or ([self._first_option] if self._first_option is not None else [])
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def open_form(client, url: str) -> dict[str, list[str]]:
    """GET ``url`` and read its form with a ``version`` field, as the browser holds it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parser = _PageForms()
    parser.feed(response.get_data(as_text=True))
    forms = [form for form in parser.forms if "version" in form]
    assert len(forms) == 1, f"{url} has {len(forms)} forms with a version"
    return forms[0]


def post(client, url: str, fields: dict[str, list[str]], **changes: str):
    return client.post(url, data={**fields, **{name: [value] for name, value in changes.items()}})


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def staff_client(app, make_user):
    client = app.test_client()
    log_in_session(client, make_user(Role.STAFF))
    return client


@dataclass
class EditedRecord:
    """A record, the URL of its edit form, the field the test changes (to two values in turn),
    how to read that field back, the audit action of a saved edit and two clients allowed to edit."""

    url: str
    field: str
    values: tuple[str, str]
    current: Callable[[], object]
    action: str
    clients: tuple


def _organisation(app, make_user, make_organisation, make_event) -> EditedRecord:
    """A society's administrator and program staff edit the organisation's profile."""
    organisation = make_organisation(contact_name="原联系人")
    society_admin = app.test_client()
    log_in_session(society_admin, make_user(Role.SOCIETY, organisation=organisation, is_org_admin=True))
    return EditedRecord(f"/organisations/{organisation.id}/edit", "contact_name", ("王老师", "李老师"),
                        lambda: db.session.get(Organisation, organisation.id).contact_name,
                        "organisation.updated", (society_admin, staff_client(app, make_user)))


def _event(app, make_user, make_organisation, make_event) -> EditedRecord:
    event = make_event(status="draft", title_zh="原标题")
    return EditedRecord(f"/manage/events/{event.id}/edit", "title_zh", ("第一位的标题", "第二位的标题"),
                        lambda: db.session.get(Event, event.id).title_zh,
                        "event.updated", (staff_client(app, make_user), staff_client(app, make_user)))


def _person(app, make_user, make_organisation, make_event) -> EditedRecord:
    event = make_event(status="draft")
    person = EventPerson(event=event, role="speaker", name="原名字")
    db.session.add(person)
    db.session.commit()
    return EditedRecord(f"/manage/events/{event.id}/people/{person.id}/edit", "name", ("张教授", "李教授"),
                        lambda: db.session.get(EventPerson, person.id).name,
                        "event.person_updated", (staff_client(app, make_user), staff_client(app, make_user)))


def _edition(app, make_user, make_organisation, make_event) -> EditedRecord:
    edition = AcademicMonthEdition(number=29, year=2026, starts_on=date(2026, 10, 1), ends_on=date(2026, 11, 30))
    db.session.add(edition)
    db.session.commit()
    return EditedRecord(f"/manage/editions/{edition.id}/edit", "number", ("30", "31"),
                        lambda: str(db.session.get(AcademicMonthEdition, edition.id).number),
                        "edition.updated", (staff_client(app, make_user), staff_client(app, make_user)))


def _series(app, make_user, make_organisation, make_event) -> EditedRecord:
    series = make_series(make_organisation())
    return EditedRecord(f"/series/{series.id}/edit", "title_zh", ("第一位的系列", "第二位的系列"),
                        lambda: db.session.get(SalonSeries, series.id).title_zh,
                        "series.updated", (staff_client(app, make_user), staff_client(app, make_user)))


def _application(app, make_user, make_organisation, make_event) -> EditedRecord:
    """Two users of the applying society edit its draft."""
    organisation = eligible_organisation(make_organisation)
    clients = []
    for _n in range(2):
        clients.append(app.test_client())
        log_in_session(clients[-1], make_user(Role.SOCIETY, organisation=organisation))
    application = draft(organisation, category(open_call(), "A"), make_user(Role.SOCIETY, organisation=organisation))
    return EditedRecord(f"/programs/applications/{application.id}/edit", "project_name_zh",
                        ("第一位的项目", "第二位的项目"),
                        lambda: db.session.get(Application, application.id).project_name_zh,
                        "application.changed", tuple(clients))


def _expert_profile(app, make_user, make_organisation, make_event) -> EditedRecord:
    """The expert and program staff edit the expert's profile."""
    expert = make_user(Role.EXPERT)
    db.session.add(ExpertProfile(user_id=expert.id, orcid="0000-0002-1825-0097"))
    db.session.commit()
    own = app.test_client()
    log_in_session(own, expert)
    return EditedRecord(f"/panels/experts/{expert.id}/profile", "orcid", ("0000-0001-5109-3700", "0000-0003-1419-2405"),
                        lambda: db.session.scalar(select(ExpertProfile.orcid).filter_by(user_id=expert.id)),
                        "expert_profile.updated", (own, staff_client(app, make_user)))


def _user(app, make_user, make_organisation, make_event) -> EditedRecord:
    """Two program staff edit an account."""
    user = make_user(Role.EXPERT, name="原名字")
    return EditedRecord(f"/admin/users/{user.id}/edit", "name", ("第一位的名字", "第二位的名字"),
                        lambda: db.session.get(User, user.id).name,
                        "user.updated", (staff_client(app, make_user), staff_client(app, make_user)))


RECORDS = [_organisation, _event, _person, _edition, _series, _application, _expert_profile, _user]


@pytest.mark.parametrize("make_record", RECORDS, ids=[make.__name__.strip("_") for make in RECORDS])
def test_a_stale_edit_is_refused_until_reloaded(app, make_user, make_organisation, make_event, make_record):
    record = make_record(app, make_user, make_organisation, make_event)
    first, second = record.clients
    first_form, second_form = open_form(first, record.url), open_form(second, record.url)
    assert first_form["version"] == second_form["version"]
    first_value, second_value = record.values

    assert post(first, record.url, first_form, **{record.field: first_value}).status_code == 302
    refused = post(second, record.url, second_form, **{record.field: second_value})

    assert refused.status_code == 409
    assert STALE_MESSAGE in refused.get_data(as_text=True)
    db.session.expire_all()
    assert record.current() == first_value
    assert audit_count(record.action) == 1  # none for the refused edit

    reloaded = open_form(second, record.url)
    assert reloaded["version"] != first_form["version"] and reloaded[record.field] == [first_value]
    assert post(second, record.url, reloaded, **{record.field: second_value}).status_code == 302
    db.session.expire_all()
    assert record.current() == second_value
    assert audit_count(record.action) == 2


def test_changing_only_an_events_organisations_makes_open_forms_stale(app, make_user, make_organisation, make_event):
    """The links are rows of their own; the event's version still moves with them."""
    starts_at = datetime(2026, 12, 10, 6, 0, tzinfo=timezone.utc)  # whole minutes, as the form posts them
    event, co_host = make_event(status="draft", starts_at=starts_at), make_organisation()
    first, second = staff_client(app, make_user), staff_client(app, make_user)
    url = f"/manage/events/{event.id}/edit"
    first_form, second_form = open_form(first, url), open_form(second, url)
    assert post(first, url, first_form, **{"organisations-1-organisation_id": str(co_host.id),
                                           "organisations-1-role": "co_host"}).status_code == 302
    refused = post(second, url, second_form, title_zh="第二位的标题")
    assert refused.status_code == 409
    db.session.expire_all()
    assert co_host.id in db.session.get(Event, event.id).host_organisation_ids


def test_a_change_landing_between_the_check_and_the_write_is_refused(app, make_user, make_organisation,
                                                                    monkeypatch):
    """Another transaction commits a change after the form's version was checked: the
    UPDATE finds the row at another version (StaleDataError) and the form says so."""
    organisation = make_organisation(contact_name="原联系人")
    client = staff_client(app, make_user)
    url = f"/organisations/{organisation.id}/edit"
    fields = open_form(client, url)
    original_update = organisation_services.update_organisation

    def overtaken(target, *args, **kwargs):
        with db.engine.begin() as other:  # another request, committed meanwhile
            other.execute(update(Organisation.__table__).where(Organisation.__table__.c.id == target.id)
                          .values(contact_name="他人的修改", version=Organisation.__table__.c.version + 1))
        return original_update(target, *args, **kwargs)

    monkeypatch.setattr(organisation_services, "update_organisation", overtaken)
    response = post(client, url, fields, contact_name="我的修改")

    assert response.status_code == 409
    assert STALE_MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).contact_name == "他人的修改"
    assert audit_count("organisation.updated") == 0


def _bump_user_version(user_id: int) -> None:
    """Another request changed the account and committed."""
    table = User.__table__
    with db.engine.begin() as other:
        other.execute(update(table).where(table.c.id == user_id).values(version=table.c.version + 1))


def test_a_stale_write_in_a_view_without_a_form_is_a_409_page_not_a_500(app, make_user, monkeypatch):
    """Disabling an account: its row changed after the view loaded it (StaleDataError in the view)."""
    user = make_user(Role.EXPERT)
    client = staff_client(app, make_user)
    original_set_enabled = account_services.set_enabled

    def overtaken(target, *args, **kwargs):
        _bump_user_version(target.id)
        original_set_enabled(target, *args, **kwargs)

    monkeypatch.setattr(account_services, "set_enabled", overtaken)
    token = csrf_token(client, "/admin/users")
    response = client.post(f"/admin/users/{user.id}/disable", data={"csrf_token": token})

    assert response.status_code == 409
    assert STALE_MESSAGE in response.get_data(as_text=True)
    assert "Content-Security-Policy" in response.headers  # the page every error page is
    db.session.expire_all()
    assert db.session.get(User, user.id).is_enabled
    assert audit_count("user.disabled") == 0


def test_a_stale_write_at_the_end_of_the_request_is_a_409_page_not_a_500(app, make_user, monkeypatch):
    """Choosing a language sets the account's locale and flushes only when the request ends;
    the row changed meanwhile."""
    user = make_user(Role.EXPERT, locale="zh_CN")
    client = app.test_client()
    log_in_session(client, user)
    original_safe_next = core_views.safe_next

    def overtaken(target):
        _bump_user_version(user.id)
        return original_safe_next(target)

    monkeypatch.setattr(core_views, "safe_next", overtaken)
    token = csrf_token(client, "/home")
    response = client.post("/language", data={"csrf_token": token, "locale": "en"})

    assert response.status_code == 409
    assert STALE_MESSAGE in response.get_data(as_text=True)  # in the language the request began with
    assert "Content-Security-Policy" in response.headers  # the hooks after the flush still ran
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_CN"


def test_a_login_meanwhile_leaves_the_staff_form_valid(app, make_user, auth):
    """The columns a login writes (``__audit_exempt__``) do not move the version."""
    user = make_user(Role.EXPERT, name="原名字")
    staff = staff_client(app, make_user)
    url = f"/admin/users/{user.id}/edit"
    fields = open_form(staff, url)
    assert auth.login(user.email).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None

    assert post(staff, url, fields, name="新名字").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "新名字"


def test_the_version_moves_with_each_change_and_only_then(app, make_organisation):
    organisation = make_organisation()
    assert organisation.version == 1
    organisation.contact_name = organisation.contact_name  # the same value: no change
    db.session.commit()
    assert organisation.version == 1
    organisation.contact_name = "新联系人"
    db.session.commit()
    assert organisation.version == 2
    organisation_services.update_organisation(organisation, {"address": "北京市海淀区"})
    db.session.commit()
    assert organisation.version == 3


def test_a_form_without_the_version_field_is_not_checked(app, make_user, make_organisation):
    """A post that carries no version (a script, a page opened before the field existed)."""
    organisation = make_organisation()
    client = staff_client(app, make_user)
    url = f"/organisations/{organisation.id}/edit"
    fields = open_form(client, url)
    del fields["version"]
    organisation.address = "他人的修改"
    db.session.commit()
    assert post(client, url, fields, contact_name="新联系人").status_code == 302


def test_a_garbled_version_is_refused_as_stale(app, make_user, make_organisation):
    organisation = make_organisation()
    client = staff_client(app, make_user)
    url = f"/organisations/{organisation.id}/edit"
    response = post(client, url, open_form(client, url), version="abc", contact_name="新联系人")
    assert response.status_code == 409 and STALE_MESSAGE in response.get_data(as_text=True)
