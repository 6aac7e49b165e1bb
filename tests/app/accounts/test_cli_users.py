"""Operator commands: users create / list / disable / enable."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.core.permissions import Role
from conference_app.extensions import db

PASSWORD = "Operator-pass-2024\n"


@pytest.fixture()
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args, stdin: str | None = None):
        return runner.invoke(args=["users", *args], input=stdin)

    return invoke


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_create_staff_user(run):
    result = run("create", "Chief@BAST.example.cn", "--role", "staff", "--name", "主任", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.name, user.role, user.is_enabled) == ("chief@bast.example.cn", "主任", "staff", True)
    assert user.check_password("Operator-pass-2024")
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.actor_label) == ("user.created", "system (command line)")


def test_create_society_admin(run, make_organisation):
    organisation = make_organisation()
    result = run("create", "head@society.cn", "--role", "society", "--org", str(organisation.id), "--org-admin",
                 "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.organisation_id == organisation.id and user.is_org_admin and user.name == "head"


@pytest.mark.parametrize(
    ("args", "stdin", "exit_code"),
    [
        (("create", "a@b.cn", "--role", "emperor", "--password-stdin"), PASSWORD, 2),
        (("create", "a@b.cn", "--role", "society", "--password-stdin"), PASSWORD, 1),
        (("create", "a@b.cn", "--role", "society", "--org", "987654", "--password-stdin"), PASSWORD, 1),
        (("create", "a@b.cn", "--role", "expert", "--org-admin", "--password-stdin"), PASSWORD, 1),
        (("create", "not-an-email", "--role", "expert", "--password-stdin"), PASSWORD, 1),
        (("create", "a@b.cn", "--role", "expert", "--password-stdin"), "short\n", 1),
        (("create", "a@b.cn", "--role", "expert", "--password-stdin"), "", 1),
        (("create", "a@b.cn", "--role", "expert"), PASSWORD, 2),
        (("create", "a@b.cn", "--role", "expert", "--org", "abc", "--password-stdin"), PASSWORD, 2),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(run, args, stdin, exit_code):
    result = run(*args, stdin=stdin)
    assert result.exit_code == exit_code
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert user_count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_duplicate_email_is_refused(run, make_user):
    existing = make_user(Role.EXPERT)
    result = run("create", existing.email.upper(), "--role", "expert", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 1 and "Error:" in result.output
    assert user_count() == 1


def test_list_and_filter(run, make_user):
    expert = make_user(Role.EXPERT)
    analyst = make_user(Role.ANALYST, is_enabled=False)
    everyone = run("list")
    assert everyone.exit_code == 0
    assert expert.email in everyone.output and f"{analyst.email}\tanalyst\t-\tdisabled" in everyone.output
    only_experts = run("list", "--role", "expert").output
    assert expert.email in only_experts and analyst.email not in only_experts


def test_disable_then_enable(run, make_user):
    user = make_user(Role.EXPERT)
    assert run("disable", user.email).exit_code == 0
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_enabled
    assert run("enable", user.email).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, user.id).is_enabled
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["user.disabled", "user.enabled"]


def test_unknown_user_cannot_be_disabled(run):
    result = run("disable", "ghost@example.cn")
    assert result.exit_code == 1 and result.output == "Error: no user with e-mail ghost@example.cn\n"
