"""Each step that concerns a user reaches them in the app and by mail through a real SMTP
server (aiosmtpd), in their language, with a link from PUBLIC_BASE_URL; staff read the
sent-mail log; a rolled-back step tells nobody."""

from __future__ import annotations

import email
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from conference_app.core import mail
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.notifications.models import Notification, SentMail
from conference_app.programs.services import applications, review
from tests.app.conftest import log_in_session
from tests.app.programs.helpers import category, draft, eligible_organisation, open_call


class Inbox:
    """An SMTP handler keeping what it receives."""

    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "PUBLIC_BASE_URL")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, PUBLIC_BASE_URL="https://academic.example.cn")
    yield inbox
    mail.wait_until_sent(app, timeout=30)
    app.config.update(saved)
    controller.stop()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_return_for_correction_reaches_the_society_by_mail_and_in_the_app(app, smtp, make_user, make_organisation,
                                                                            client):
    call = open_call()
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    staff = make_user(Role.STAFF)
    application = draft(organisation, category(call, "B"), owner)
    applications.submit(application, actor=owner)
    db.session.commit()
    review.return_for_correction(application, actor=staff, comment="请补充预算说明")
    db.session.commit()
    assert mail.wait_until_sent(app, timeout=30)

    to_owner = [m for m in smtp.messages if m["To"] == owner.email]
    assert len(to_owner) == 1
    body = to_owner[0].get_content()
    assert "请补充预算说明" in body and "退回" in to_owner[0]["Subject"]
    assert f"https://academic.example.cn/programs/applications/{application.id}" in body
    assert any(m["To"] == staff.email and application.project_name_zh in m.get_content() for m in smtp.messages)

    notification = db.session.scalar(select(Notification).where(Notification.user_id == owner.id))
    assert "请补充预算说明" in notification.body and notification.read_at is None
    assert _count(SentMail) == len(smtp.messages)

    log_in_session(client, owner)
    page = client.get("/notifications/")
    assert page.status_code == 200 and "请补充预算说明" in page.get_data(as_text=True)
    assert client.get("/notifications/sent-mail").status_code == 403
    log_in_session(client, staff)
    log = client.get("/notifications/sent-mail?q=" + owner.email)
    assert log.status_code == 200 and owner.email in log.get_data(as_text=True)


def test_a_refused_step_tells_nobody(app, smtp, make_user, make_organisation):
    call = open_call()
    organisation = eligible_organisation(make_organisation)
    owner = make_user("society", organisation=organisation)
    application = draft(organisation, category(call, "B"), owner)
    applications.submit(application, actor=owner)
    db.session.commit()
    before = (_count(Notification), _count(SentMail), len(smtp.messages))
    with pytest.raises(ServiceError):
        review.return_for_correction(application, actor=make_user(Role.STAFF), comment="")
    db.session.rollback()
    assert mail.wait_until_sent(app, timeout=30)
    assert (_count(Notification), _count(SentMail), len(smtp.messages)) == before
