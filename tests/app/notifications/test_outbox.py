"""Mail by SMTP goes through the outbox: stored in the transaction that sends it, delivered by
the ``mail`` background job after the commit (never after a rollback), retried while the
server is down, failed after the last attempt, visible to staff, who may retry it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core import mail, outbox
from conference_app.core.db import unit_of_work
from conference_app.core.outbox import OutboxMessage, OutboxState
from conference_app.core.permissions import Role
from conference_app.extensions import db
from conference_app.jobs import runner
from conference_app.jobs.models import Job, JobState
from tests.app.conftest import log_in_session
from tests.app.helpers import csrf_token
from tests.app.jobs import kinds_for_tests
from tests.app.jobs.conftest import start


def _send(to: str = "expert@example.cn", subject: str = "评审邀请", body: str = "请于本周内完成评审。") -> None:
    with unit_of_work():
        mail.send(to, subject, body)


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _mail_jobs() -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.kind == outbox.JOB_KIND).order_by(Job.id)))


def _until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


def test_a_message_is_stored_in_the_transaction_and_reaches_the_server_once_after_commit(mail_app, smtp_server):
    with unit_of_work():
        mail.send(["a@example.cn", "b@example.cn"], "评审邀请", "请于本周内完成评审。")
        mail.send("c@example.cn", "第二封", "正文")
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        assert smtp_server.messages == []  # nothing leaves before the commit
    assert mail.wait_until_sent(mail_app, timeout=30)
    assert runner.wait_until_idle(mail_app, timeout=30)

    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.cn, b@example.cn", "c@example.cn"]
    first = next(m for m in smtp_server.messages if m["Subject"] == "评审邀请")
    assert first.get_content().strip() == "请于本周内完成评审。"
    assert [(row.state, row.attempts) for row in _rows()] == [(OutboxState.SENT, 1), (OutboxState.SENT, 1)]
    assert all(row.sent_at is not None and row.next_attempt_at is None for row in _rows())
    [job] = _mail_jobs()  # one delivery job for the transaction, not one per message
    assert job.state == JobState.FINISHED and job.user_id is None
    assert "2 sent, 0 to retry, 0 failed" in job.log

    _send("d@example.cn")  # a later transaction: a new job, and the sent ones are not sent again
    assert mail.wait_until_sent(mail_app, timeout=30) and runner.wait_until_idle(mail_app, timeout=30)
    assert len(smtp_server.messages) == 3 and len(_mail_jobs()) == 2


def test_a_rolled_back_transaction_leaves_no_row_no_job_and_sends_nothing(mail_app, smtp_server):
    with pytest.raises(RuntimeError), unit_of_work():
        mail.send("expert@example.cn", "不应发出", "正文")
        db.session.flush()
        raise RuntimeError("the change is refused")
    assert mail.wait_until_sent(mail_app, timeout=30) and runner.wait_until_idle(mail_app, timeout=30)
    assert _rows() == [] and _mail_jobs() == [] and smtp_server.messages == []


def test_a_request_mails_after_its_commit(mail_app, smtp_server, client, make_user):
    """A password reset request: the link reaches the server by the mail job."""
    user = make_user(Role.EXPERT)
    token = csrf_token(client, "/auth/reset")
    response = client.post("/auth/reset", data={"email": user.email, "csrf_token": token})
    assert response.status_code == 302
    assert mail.wait_until_sent(mail_app, timeout=30) and runner.wait_until_idle(mail_app, timeout=30)
    [message] = smtp_server.messages
    assert message["To"] == user.email and "/auth/reset/" in message.get_content()
    assert [row.state for row in _rows()] == [OutboxState.SENT]


def test_one_queued_delivery_job_serves_every_transaction_until_it_runs(mail_app, smtp_server, make_user):
    """While the job thread is busy, mail of later transactions waits for the one queued job."""
    kinds_for_tests.RELEASE.clear()
    kinds_for_tests.STARTED.clear()
    blocker = start("test.wait", {}, make_user(Role.ANALYST))
    try:
        assert kinds_for_tests.STARTED.wait(10)
        _send("first@example.cn")
        _send("second@example.cn")
        [job] = _mail_jobs()
        assert job.state == JobState.QUEUED and smtp_server.messages == []
    finally:
        kinds_for_tests.RELEASE.set()
    assert mail.wait_until_sent(mail_app, timeout=30) and runner.wait_until_idle(mail_app, timeout=30)
    assert sorted(m["To"] for m in smtp_server.messages) == ["first@example.cn", "second@example.cn"]
    assert [job.state for job in _mail_jobs()] == [JobState.FINISHED]
    assert db.session.get(Job, blocker).state == JobState.FINISHED


def test_the_server_down_is_retried_and_the_mail_delivered_when_it_is_back(mail_app, smtp_server, caplog):
    mail_app.config.update(MAIL_RETRY_SECONDS=0.5, MAIL_MAX_ATTEMPTS=10)
    smtp_server.stop()
    _send("expert@example.cn")
    _until(lambda: _rows()[0].attempts >= 2)
    [row] = _rows()
    assert row.state in (OutboxState.PENDING, OutboxState.SENDING) and "ConnectionRefusedError" in row.last_error
    assert smtp_server.messages == []
    assert "could not send mail to expert@example.cn (attempt 1 of 10" in caplog.text

    smtp_server.start()
    _until(lambda: _rows()[0].state == OutboxState.SENT)
    assert runner.wait_until_idle(mail_app, timeout=30)
    [message] = smtp_server.messages  # once, though it was tried several times
    assert message["To"] == "expert@example.cn"
    [row] = _rows()
    assert row.attempts >= 2 and row.last_error is None
    [job] = _mail_jobs()  # the one job waited for the retries
    assert job.state == JobState.FINISHED and "1 sent" in job.log


def test_a_mail_failing_every_attempt_is_failed_shown_to_staff_and_retried_by_them(mail_app, smtp_server, client,
                                                                                  make_user, caplog):
    smtp_server.stop()
    _send("expert@example.cn", subject="无法送达的邮件")
    _until(lambda: _rows()[0].state == OutboxState.FAILED)
    assert runner.wait_until_idle(mail_app, timeout=30)
    [row] = _rows()
    assert row.attempts == 3 and row.next_attempt_at is None and "ConnectionRefusedError" in row.last_error
    assert "could not send mail to expert@example.cn: failed after 3 attempts" in caplog.text

    log_in_session(client, make_user(Role.EXPERT))
    assert client.get("/notifications/outbox").status_code == 403
    staff = make_user(Role.STAFF)
    log_in_session(client, staff)
    page = client.get("/notifications/outbox?state=failed").get_data(as_text=True)
    assert "无法送达的邮件" in page and "失败" in page and "ConnectionRefusedError" in page
    assert 'data-testid="retry-mail"' in page
    assert "无法送达的邮件" not in client.get("/notifications/outbox?state=sent").get_data(as_text=True)

    smtp_server.start()
    token = csrf_token(client, "/notifications/outbox")
    response = client.post(f"/notifications/outbox/{row.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == "/notifications/outbox"
    assert mail.wait_until_sent(mail_app, timeout=30) and runner.wait_until_idle(mail_app, timeout=30)
    [message] = smtp_server.messages
    assert message["Subject"] == "无法送达的邮件"
    assert _rows()[0].state == OutboxState.SENT
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail.retried"))
    assert (entry.actor_id, entry.object_id, entry.from_state, entry.to_state) == (staff.id, str(row.id), "failed",
                                                                                  "pending")

    again = client.post(f"/notifications/outbox/{row.id}/retry", data={"csrf_token": token}, follow_redirects=True)
    assert "只有投递失败的邮件才能重试" in again.get_data(as_text=True)  # a sent mail is not sent twice
    assert len(smtp_server.messages) == 1
    assert client.post(f"/notifications/outbox/{row.id + 1000}/retry", data={"csrf_token": token}).status_code == 404


def test_two_deliveries_at_once_send_each_message_once(mail_app, smtp_server):
    """Claiming a row is one conditional update: concurrent deliveries never send one twice."""
    import threading

    mail_app.config.update(MAIL_RETRY_SECONDS=1.0, MAIL_MAX_ATTEMPTS=10)
    smtp_server.stop()
    with unit_of_work():
        for n in range(12):
            mail.send(f"user{n}@example.cn", f"第{n}封", "正文")
    _until(lambda: all(row.attempts >= 1 for row in _rows()))
    smtp_server.start()

    def deliver() -> None:
        with mail_app.app_context():
            outbox.deliver()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert runner.wait_until_idle(mail_app, timeout=30)
    _until(lambda: all(row.state == OutboxState.SENT for row in _rows()))
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"user{n}@example.cn" for n in range(12))


def test_staff_deliver_mail_whose_job_was_cancelled(mail_app, smtp_server, client, make_user):
    from conference_app.jobs import services as jobs

    staff = make_user(Role.STAFF)
    kinds_for_tests.RELEASE.clear()
    kinds_for_tests.STARTED.clear()
    start("test.wait", {}, make_user(Role.ANALYST))
    try:
        assert kinds_for_tests.STARTED.wait(10)
        _send("waiting@example.cn")
        [job] = _mail_jobs()
        with unit_of_work():
            jobs.cancel_job(job, staff)
    finally:
        kinds_for_tests.RELEASE.set()
    assert runner.wait_until_idle(mail_app, timeout=30)
    assert [row.state for row in _rows()] == [OutboxState.PENDING] and smtp_server.messages == []

    log_in_session(client, staff)
    page = client.get("/notifications/outbox").get_data(as_text=True)
    assert 'data-testid="deliver-mail"' in page
    token = csrf_token(client, "/notifications/outbox")
    response = client.post("/notifications/outbox/deliver", data={"csrf_token": token}, follow_redirects=True)
    assert "已开始投递 1 封等待发送的邮件" in response.get_data(as_text=True)
    assert mail.wait_until_sent(mail_app, timeout=30) and runner.wait_until_idle(mail_app, timeout=30)
    [message] = smtp_server.messages
    assert message["To"] == "waiting@example.cn" and [row.state for row in _rows()] == [OutboxState.SENT]
    assert [job.state for job in _mail_jobs()] == [JobState.CANCELLED, JobState.FINISHED]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail.delivery_requested")).actor_id == staff.id

    again = client.post("/notifications/outbox/deliver", data={"csrf_token": token}, follow_redirects=True)
    assert "没有等待发送的邮件" in again.get_data(as_text=True)
