"""Funds: the tranches of a project released by staff on a date once the step they wait for
is done (approval, the mid-term evaluation, acceptance), a project's ledger, and a call's
summary sheet (汇总表) per category."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from conference_app.core.db import utcnow
from conference_app.core.excel import Column, workbook_bytes
from conference_app.core.layout import money
from conference_app.core.services import ServiceError
from conference_app.core.timeutil import beijing_today
from conference_app.extensions import db
from conference_app.programs.models import (
    ENDED_STATES,
    FUNDED_STATES,
    Application,
    ApplicationStatus,
    Call,
    CallCategory,
    Tranche,
    TrancheStatus,
    TrancheWhen,
)
from conference_app.programs.services import messages
from conference_app.programs.workflow import TRANCHE

S = ApplicationStatus
# The project states in which a tranche waiting for that step may be released.
RELEASABLE_IN = {
    TrancheWhen.ON_APPROVAL: frozenset({S.AGREEMENT, S.IN_PROGRESS, S.MIDTERM, S.ACCEPTANCE, S.CLOSED}),
    TrancheWhen.AFTER_MIDTERM: frozenset({S.MIDTERM, S.ACCEPTANCE, S.CLOSED}),
    TrancheWhen.AFTER_ACCEPTANCE: frozenset({S.CLOSED}),
}


def release_refusal(tranche: Tranche) -> str | None:
    state = tranche.application.status
    if state not in RELEASABLE_IN[tranche.when]:
        return _("This tranche is paid %(when)s; the project is %(state)s.", when=tranche.when.title,
                 state=state.title)
    earlier = [t for t in tranche.application.tranches if t.position < tranche.position
               and t.status == TrancheStatus.PLANNED]
    if earlier:
        return _("Release or withhold the earlier tranches first.")
    return None


def release(tranche: Tranche, released_on: date | None, *, actor) -> None:
    """Record the payment of ``tranche`` on ``released_on`` (a Beijing date, not in the future)."""
    if released_on is None or released_on > beijing_today():
        raise ServiceError(_("Give the date of the payment; it cannot be in the future."))
    refusal = release_refusal(tranche)
    if refusal:
        raise ServiceError(refusal, 409)
    TRANCHE.apply(tranche, "release", actor=actor,
                  details={"amount_fen": tranche.amount_fen, "released_on": released_on.isoformat()})
    tranche.released_on, tranche.released_at, tranche.released_by_id = released_on, utcnow(), actor.id
    messages.tell_applicant(tranche.application, "tranche_released",
                            f"{tranche.percent}%，{money(tranche.amount_fen)}，{released_on.isoformat()}")


def withhold(tranche: Tranche, *, actor, comment: str | None) -> None:
    TRANCHE.apply(tranche, "withhold", actor=actor, comment=comment, details={"amount_fen": tranche.amount_fen})


@dataclass(frozen=True)
class Ledger:
    planned_fen: int
    released_fen: int
    withheld_fen: int
    tranches: list[Tranche]

    @property
    def outstanding_fen(self) -> int:
        return self.planned_fen - self.released_fen - self.withheld_fen


def ledger(application: Application) -> Ledger:
    tranches = list(application.tranches)
    return Ledger(sum(t.amount_fen for t in tranches),
                  sum(t.amount_fen for t in tranches if t.status == TrancheStatus.RELEASED),
                  sum(t.amount_fen for t in tranches if t.status == TrancheStatus.WITHHELD), tranches)


@dataclass(frozen=True)
class SummaryLine:
    """One category of a call's summary sheet."""

    category: CallCategory
    applications: int
    submitted: int
    approved: int
    requested_fen: int
    approved_fen: int
    released_fen: int


def call_summary(call: Call) -> list[SummaryLine]:
    """Per category: applications (not counting drafts), submitted and still in the race or
    decided, approved projects, amounts requested and approved, and released so far."""
    funded = [str(s) for s in FUNDED_STATES]
    rows = db.session.execute(
        select(Application.category_id,
               func.count().filter(Application.status != S.DRAFT),
               func.count().filter(Application.status.not_in([S.DRAFT, *[str(s) for s in ENDED_STATES]])),
               func.count().filter(Application.status.in_(funded)),
               func.coalesce(func.sum(Application.requested_fen).filter(Application.status != S.DRAFT), 0),
               func.coalesce(func.sum(Application.requested_fen).filter(Application.status.in_(funded)), 0))
        .where(Application.call_id == call.id).group_by(Application.category_id)).all()
    released = dict(db.session.execute(
        select(Application.category_id, func.sum(Tranche.amount_fen))
        .join(Tranche, Tranche.application_id == Application.id)
        .where(Application.call_id == call.id, Tranche.status == TrancheStatus.RELEASED)
        .group_by(Application.category_id)).all())
    by_category = {row[0]: row[1:] for row in rows}
    return [SummaryLine(category, *(by_category.get(category.id) or (0, 0, 0, 0, 0)),
                        released_fen=released.get(category.id) or 0)
            for category in call.categories]


def yuan(fen: int | None) -> Decimal | None:
    """Integer fen as a Decimal of yuan, for workbook cells (never a float)."""
    return None if fen is None else Decimal(fen) / 100


def summary_workbook(call: Call) -> bytes:
    columns = [
        Column(_("Category"), lambda line: f"{line.category.code} {line.category.name_zh}", 40),
        Column(_("Applications"), lambda line: line.applications, 12),
        Column(_("In review or decided"), lambda line: line.submitted, 14),
        Column(_("Approved"), lambda line: line.approved, 10),
        Column(_("Requested (yuan)"), lambda line: yuan(line.requested_fen), 16),
        Column(_("Approved (yuan)"), lambda line: yuan(line.approved_fen), 16),
        Column(_("Released (yuan)"), lambda line: yuan(line.released_fen), 16),
    ]
    return workbook_bytes(call.title_zh[:31], columns, call_summary(call))
