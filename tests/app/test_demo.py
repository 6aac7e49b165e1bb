"""`flask demo load`: a believable world, safe to run twice, whose printed logins all work."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.organisations import services
from conference_app.organisations.models import Organisation, OrganisationType, PastEvent
from conference_app.report_sessions.models import ReportSession
from conference_app.report_sessions.services import invitations, publishing

LOGIN_LINE = re.compile(r"^\s+(staff|analyst|expert|society)\s+(\S+@\S+)\s+(\S+)\s+(\S+)", re.MULTILINE)


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Organisation, User, PastEvent))


def load(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_twice_gives_the_same_world_of_every_kind(app):
    first = load(app)
    after_first = counts()
    second = load(app)
    assert counts() == after_first
    assert LOGIN_LINE.findall(first) == LOGIN_LINE.findall(second)
    assert "http://127.0.0.1:5000" in first
    organisations = db.session.scalars(select(Organisation)).all()
    assert {organisation.org_type for organisation in organisations} == {kind.value for kind in OrganisationType}
    assert {organisation.status for organisation in organisations} == {"approved", "pending", "rejected"}
    eligible = [organisation for organisation in organisations if services.is_eligible_applicant(organisation)]
    assert any(o.in_journal_excellence_plan and not o.is_bast_member for o in eligible)
    assert any(o.status == "approved" and not services.is_eligible_applicant(o) for o in organisations)
    assert {user.role for user in db.session.scalars(select(User))} == {role.value for role in Role}
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.EXPERT.value)) >= 3
    mechanics = db.session.scalar(select(Organisation).where(Organisation.name_zh == "北京力学会"))
    assert services.past_events(mechanics, kinds=["international"], since_year=mechanics.created_at.year - 3)
    assert "Report sessions: 1 published (2 programme versions), 1 in progress" in first


def test_the_demo_report_sessions_come_from_the_locked_20_one_published_one_in_progress(app):
    load(app)
    published, in_progress = db.session.scalars(select(ReportSession).order_by(ReportSession.id)).all()
    locked = {result.candidate_id for result in published.panel.results}
    assert len(locked) == 20
    assert published.status == "published" and in_progress.status == "draft"
    assert {slot.candidate_id for slot in published.slots + in_progress.slots if slot.kind == "talk"} <= locked
    assert publishing.on_site_speakers(published) >= 4 and publishing.accepted_guests(published)
    assert publishing.missing_for_publishing(published) == []
    assert [version.number for version in published.versions] == [1, 2]
    assert published.event.status == "held" and published.edition.number == 29
    assert in_progress.edition.number == 30 and publishing.missing_for_publishing(in_progress)
    assert {invitation.status for invitation in in_progress.invitations} == {"invited", "accepted", "declined"}
    declined = next(slot for slot in in_progress.slots if slot.invitations and slot.invitations[0].status == "declined")
    assert invitations.speaker_offer(declined) is not None


def test_each_printed_login_reaches_its_home_page(app, client, auth):
    logins = LOGIN_LINE.findall(load(app))
    assert {role for role, *_ in logins} == {role.value for role in Role}
    for role, email, password, name in logins:
        response = auth.login(email, password)
        assert response.status_code == 302, email
        home = client.get("/home")
        html = home.get_data(as_text=True)
        assert home.status_code == 200, email
        assert name in html and Role(role).title in html, email
        if role == Role.SOCIETY:
            user = db.session.scalar(select(User).where(User.email == email))
            assert user.organisation.name_zh in html
        auth.logout()


def test_pending_demo_applicants_log_in_once_approved(app, client, auth):
    output = load(app)
    line = re.search(r"- (\S+): once approved, (\S+@\S+) logs in with (\S+)", output)
    name, email, password = line.groups()
    assert auth.login(email, password).status_code != 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.name_zh == name))
    reviewer = db.session.scalar(select(User).where(User.role == Role.STAFF.value))
    services.approve_organisation(organisation, reviewer)
    db.session.commit()
    assert auth.login(email, password).status_code == 302
    assert client.get("/home").status_code == 200
