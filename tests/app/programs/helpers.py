"""Helpers of the programs tests: the shipped calls loaded and opened today, applications
brought to a state through the services, what the database holds."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from conference_app.audit.models import AuditEntry
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.call_schema import parse_call
from conference_app.programs.models import (
    Application,
    ApplicationAttachment,
    BudgetLine,
    Call,
    CallCategory,
    PlannedEvent,
)
from conference_app.programs.services import applications as services
from conference_app.programs.services.calls import load_call, publish_call
from tests.conftest import REPO_ROOT

CALLS = REPO_ROOT / "calls"
CALL_2026 = CALLS / "2026-capital-academic.yaml"


def open_call(path: Path = CALL_2026, *, closes_in_days: int = 10, replace=()) -> Call:
    """A shipped call loaded, published and open today (its window moved around today);
    ``replace`` lists (old, new) texts changed in the file first."""
    text = path.read_text(encoding="utf-8")
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    result = load_call(parse_call(text, path.name), source_name=path.name, source=text.encode())
    call = result.call
    publish_call(call, actor=None)
    call.opens_on = beijing_today() - timedelta(days=10)
    call.closes_on = beijing_today() + timedelta(days=closes_in_days)
    db.session.commit()
    return call


def category(call: Call, code: str) -> CallCategory:
    return next(c for c in call.categories if c.code == code)


def eligible_organisation(make_organisation, make_past_event=None, **fields):
    """A BAST member society that held what categories A and B ask (declared past events of last year)."""
    from conference_app.organisations.models import PastEvent

    organisation = make_organisation(**fields)
    year = beijing_today().year
    for n, kind in enumerate(("international", "national", "regional", "other")):
        db.session.add(PastEvent(organisation_id=organisation.id, year=year - 1, kind=kind, title=f"往年会议{n}",
                                 role="host", held_in_beijing=True))
    db.session.commit()
    return organisation


def draft(organisation, cat: CallCategory, actor, *, requested_fen: int | None = None, **fields) -> Application:
    """A draft application with one planned event and its budget in one line."""
    values = {"project_name_zh": fields.pop("project_name_zh", f"{organisation.name_zh}项目"),
              "theme": "京津冀协同创新前沿", **fields}
    if requested_fen is not None:
        values["requested_fen"] = requested_fen
    application = services.start_application(organisation, cat, values, actor=actor)
    services.add_planned_event(application, {"kind": "international", "title": "国际学术会议",
                                             "starts_on": date(2026, 10, 20), "ends_on": date(2026, 10, 21),
                                             "venue": "北京国际会议中心", "district": "chaoyang",
                                             "expected_attendance": 300, "filing_status": "pending"}, actor=actor)
    services.set_budget_lines(application, [{"item": "会议费", "amount": str(application.requested_fen / 100)}],
                              actor=actor)
    db.session.commit()
    return application


def rows(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def written() -> dict[str, int]:
    """The rows an application's request may write."""
    return {name: rows(model) for name, model in (
        ("applications", Application), ("budget_lines", BudgetLine), ("planned_events", PlannedEvent),
        ("attachments", ApplicationAttachment), ("audit", AuditEntry))}
