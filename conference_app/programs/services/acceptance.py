"""Acceptance (验收): the system proposes a verdict per indicator from the evaluation and the
amount to recover under the call's ``recovery`` rule; staff confirm or override each verdict
(an override needs a comment) and conclude; the result is logged and shown to the society."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from conference_app.core.services import ServiceError
from conference_app.extensions import db
from conference_app.programs.models import AcceptanceVerdict, Application, ApplicationStatus, TrancheStatus
from conference_app.programs.services import messages, performance
from conference_app.programs.services.calls import call_definition
from conference_app.programs.workflow import APPLICATION

DECISIONS = ("met", "not_met")


@dataclass(frozen=True)
class Proposal:
    """What the system proposes for one indicator at acceptance."""

    result: object  # indicators.IndicatorResult
    proposed: str  # met / not_met / "" (people decide: reviewed texts)


def propose(application: Application) -> list[Proposal]:
    """Met stays met; anything else at acceptance is proposed not met, except what people judge."""
    proposals = []
    for result in performance.evaluate_project(application):
        if result.status in ("met", "not_applicable"):
            proposed = "met"
        elif result.status == "needs_review":
            proposed = ""
        else:
            proposed = "not_met"
        proposals.append(Proposal(result, proposed))
    return proposals


def recovery_fen(application: Application, decisions: Mapping[str, str]) -> int:
    """The amount to recover under the call's rule, given the verdict of each indicator.

    ``proportional``: the approved amount times the share of indicators not met;
    ``all_unpaid``: what has not been released yet, when any indicator is not met;
    ``staff_decides``: nothing proposed.
    """
    rule = call_definition(application.call).recovery
    unmet = sum(1 for decision in decisions.values() if decision == "not_met")
    if not decisions or not unmet or rule is None or rule.rule == "staff_decides":
        return 0
    if rule.rule == "all_unpaid":
        return sum(t.amount_fen for t in application.tranches if t.status == TrancheStatus.PLANNED)
    return application.requested_fen * unmet // len(decisions)


def conclude(application: Application, decisions: Mapping[str, str], comments: Mapping[str, str], *, actor,
             conclusion: str | None, recovery_override_fen: int | None = None) -> None:
    """Staff's verdicts (every indicator met or not met; a verdict against the proposal needs
    its comment), the amount to recover, and the project closed."""
    if application.status != ApplicationStatus.ACCEPTANCE:
        raise ServiceError(_("Acceptance has not been opened for this project."), 409)
    proposals = {p.result.code: p for p in propose(application)}
    rows = []
    for code, proposal in proposals.items():
        decision = decisions.get(code) or proposal.proposed
        if decision not in DECISIONS:
            raise ServiceError(_("Indicator %(code)s: please decide whether it is met.", code=code))
        comment = (comments.get(code) or "").strip() or None
        if proposal.proposed and decision != proposal.proposed and not comment:
            raise ServiceError(_("Indicator %(code)s: say why the verdict differs from the evaluation.", code=code))
        rows.append(AcceptanceVerdict(application_id=application.id, indicator_code=code,
                                      proposed=proposal.result.status, decided=decision, comment=comment,
                                      decided_by_id=actor.id))
    final = {row.indicator_code: row.decided for row in rows}
    proposed_recovery = recovery_fen(application, final)
    amount = proposed_recovery if recovery_override_fen is None else recovery_override_fen
    if not 0 <= amount <= application.requested_fen:
        raise ServiceError(_("The amount to recover lies between zero and the approved amount."))
    if amount != proposed_recovery and not (conclusion or "").strip():
        raise ServiceError(_("Say in the conclusion why the amount to recover differs from the rule's."))
    APPLICATION.apply(application, "close", actor=actor, comment=conclusion,
                      details={"verdicts": final, "recovery_fen": amount, "proposed_recovery_fen": proposed_recovery})
    db.session.add_all(rows)
    application.recovery_fen = amount
    messages.tell_applicant(application, "closed", conclusion)


def open_midterm(application: Application, *, actor, comment: str | None = None) -> None:
    APPLICATION.apply(application, "open_midterm", actor=actor, comment=comment)


def open_acceptance(application: Application, *, actor, comment: str | None = None) -> None:
    """Acceptance opened: the society is asked to check that its results are recorded."""
    APPLICATION.apply(application, "open_acceptance", actor=actor, comment=comment)
    messages.tell_applicant(application, "acceptance_opened")


def verdicts(application: Application) -> list[AcceptanceVerdict]:
    return list(db.session.scalars(db.select(AcceptanceVerdict).where(
        AcceptanceVerdict.application_id == application.id).order_by(AcceptanceVerdict.id)))
