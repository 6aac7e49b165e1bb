"""Applications: started only when the organisation is eligible, edited as drafts (planned
events, co-organisers, budget lines, attachments), submitted before the call closes,
withdrawn; eligibility checked rule by rule from the recorded facts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from conference_app.audit.services import record, record_changes, register_action_titles, snapshot
from conference_app.core.db import column_length, utcnow
from conference_app.core.layout import money
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.core.timeutil import beijing_today
from conference_app.core.uploads import store_upload
from conference_app.events.models import District, EventKind, FilingStatus
from conference_app.events.services.facts import held_events
from conference_app.extensions import db
from conference_app.organisations.models import Organisation
from conference_app.programs import eligibility
from conference_app.programs.call_schema import ApplicationsLimitRule
from conference_app.programs.models import (
    ENDED_STATES,
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    BudgetLine,
    Call,
    CallCategory,
    CallStatus,
    CoOrganiser,
    PlannedEvent,
)
from conference_app.programs.services import messages
from conference_app.programs.services.calls import call_definition
from conference_app.programs.workflow import APPLICATION

register_action_titles({
    "application.created": _l("Application started"),
    "application.changed": _l("Application changed"),
    "application.budget_set": _l("Budget lines set"),
    "application.planned_event_added": _l("Planned event added"),
    "application.planned_event_removed": _l("Planned event removed"),
    "application.co_organiser_added": _l("Co-organiser added"),
    "application.co_organiser_removed": _l("Co-organiser removed"),
    "application.attachment_added": _l("Attachment added"),
    "application.attachment_removed": _l("Attachment removed"),
    "application.rule_confirmed": _l("Eligibility condition confirmed"),
})

EDITABLE_STATES = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.RETURNED})
ATTACHMENT_KINDS = ("pdf", "docx", "xlsx")
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
MAX_BUDGET_LINES = 40
APPLICATION_FIELDS = ("project_name_zh", "project_name_en", "theme", "expected_outcomes", "requested_fen",
                      "matching_funds_fen", "district", "form_code")


# --- eligibility -----------------------------------------------------------------------------

def applicant_facts(organisation: Organisation, category: CallCategory, *, application: Application | None = None,
                    matching_funds_fen: int | None = None) -> eligibility.ApplicantFacts:
    """What the eligibility rules are checked against, from the recorded facts: membership,
    the journal plan, the organisation type, the events it held (declared and through the
    platform) and its other live applications in the call."""
    call = category.call
    held = tuple(
        eligibility.HeldEventFact(e.source, e.year, str(e.kind), str(e.role), e.in_beijing, e.title,
                                  e.past_event_id if e.source == "declared" else e.event_id)
        for e in held_events(organisation, until_year=call.year - 1)
    )
    others = db.session.execute(
        select(Application.id, CallCategory.code, Application.status, Application.project_name_zh)
        .join(CallCategory, CallCategory.id == Application.category_id)
        .where(Application.call_id == call.id, Application.organisation_id == organisation.id,
               Application.status.not_in([str(state) for state in ENDED_STATES]),
               Application.id != (application.id if application is not None and application.id else -1))
    )
    return eligibility.ApplicantFacts(
        organisation_name=organisation.name_zh,
        org_type=str(organisation.org_type),
        is_bast_member=organisation.is_bast_member,
        in_journal_excellence_plan=organisation.in_journal_excellence_plan,
        call_code=call.code,
        call_year=call.year,
        category_code=category.code,
        held_events=held,
        other_applications=tuple(eligibility.OtherApplication(row[0], call.code, row[1], str(row[2]), row[3])
                                 for row in others),
        matching_funds_fen=application.matching_funds_fen if application is not None else matching_funds_fen,
        confirmed_rules=frozenset(application.confirmed_rules if application is not None else ()),
    )


DEFAULT_PER_APPLICANT_LIMIT = 1


def category_rules(category: CallCategory) -> list:
    """The call's rules for every category, the category's own, and its per-applicant limit
    (``per_applicant_limit``, one application per organisation and category when the call
    says nothing) unless a rule of the call limits applications per category already."""
    definition = call_definition(category.call)
    rules = list(definition.rules_for(category.code))
    if not any(rule.kind == "applications_limit" and rule.scope == "category" for rule in rules):
        limit = definition.category(category.code).per_applicant_limit or DEFAULT_PER_APPLICANT_LIMIT
        rules.append(ApplicationsLimitRule(scope="category", max=limit,
                                           text_zh=f"每个单位在本类别限报{limit}项"))
    return rules


def check_eligibility(organisation: Organisation, category: CallCategory, *,
                      application: Application | None = None) -> list[eligibility.RuleVerdict]:
    """Every rule of the category, met / not met / needs staff confirmation, with evidence."""
    return eligibility.check(category_rules(category), applicant_facts(organisation, category,
                                                                       application=application))


def _refusal_text(verdicts: Iterable[eligibility.RuleVerdict]) -> str | None:
    unmet = eligibility.refusals(list(verdicts))
    if not unmet:
        return None
    return _("The organisation does not meet a condition of this category: %(rules)s",
             rules="; ".join(f"{verdict.text_zh} ({verdict.reason})" for verdict in unmet))


# --- starting and editing ----------------------------------------------------------------------

def window_refusal(call: Call) -> str | None:
    """Why the call takes no application today (Beijing date), or None."""
    today = beijing_today()
    if call.status != CallStatus.PUBLISHED:
        return _("This call is not open for applications.")
    if today < call.opens_on:
        return _("Applications open on %(date)s.", date=call.opens_on.isoformat())
    if today > call.closes_on:
        return _("The call closed on %(date)s: no application can be submitted any more.",
                 date=call.closes_on.isoformat())
    return None


def parse_fen(value: Any, label, *, required: bool = True) -> int | None:
    """An amount typed in yuan (up to two decimals, commas allowed) as integer fen."""
    from decimal import Decimal, InvalidOperation

    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ServiceError(_("%(field)s: please enter an amount in yuan.", field=label))
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ServiceError(_("%(field)s: \"%(value)s\" is not an amount in yuan.", field=label, value=value)) from None
    if amount != amount.quantize(Decimal("0.01")) or not amount.is_finite():
        raise ServiceError(_("%(field)s: at most two decimals (fen).", field=label))
    if amount < 0:
        raise ServiceError(_("%(field)s: the amount cannot be negative.", field=label))
    if amount > Decimal(20_000_000):
        raise ServiceError(_("%(field)s: the amount is too large.", field=label))
    return int(amount * 100)


def _cleaned(category: CallCategory, fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: fields[name] for name in APPLICATION_FIELDS if name in fields}
    for name, label, required in (("project_name_zh", _l("Project name (Chinese)"), True),
                                  ("project_name_en", _l("Project name (English)"), False),
                                  ("theme", _l("Theme"), False), ("expected_outcomes", _l("Expected outcomes"), False)):
        if name in values:
            values[name] = clean_text(values[name], label, max_length=column_length(Application, name) or 20000,
                                      required=required)
    if "requested_fen" in values:
        values["requested_fen"] = parse_fen(values["requested_fen"], _l("Requested amount"))
        _check_amount(category, values["requested_fen"])
    if "matching_funds_fen" in values:
        values["matching_funds_fen"] = parse_fen(values["matching_funds_fen"], _l("Matching funds"), required=False)
    if "district" in values:
        if values["district"] not in (None, "", *District):
            raise ServiceError(_("Please choose the district from the list."))
        values["district"] = District(values["district"]) if values["district"] else None
    if "form_code" in values:
        forms = [form.code for form in (category.definition().forms or ())]
        if forms and values["form_code"] not in forms:
            raise ServiceError(_("Please choose the form of the project."))
        if not forms:
            values["form_code"] = None
    return values


def _check_amount(category: CallCategory, requested_fen: int) -> None:
    if requested_fen <= 0:
        raise ServiceError(_("The requested amount must be more than zero."))
    if requested_fen > category.cap_fen:
        raise ServiceError(_("The requested amount %(requested)s exceeds the %(cap)s of category %(category)s.",
                             requested=money(requested_fen), cap=money(category.cap_fen), category=category.code))


def start_application(organisation: Organisation, category: CallCategory, fields: Mapping[str, Any], *,
                      actor) -> Application:
    """A draft application for ``category``, refused when the call is closed or a rule is not met."""
    refusal = window_refusal(category.call)
    if refusal:
        raise ServiceError(refusal, 409)
    values = _cleaned(category, {"requested_fen": category.cap_fen if category.amount_is_fixed else None, **fields})
    facts = applicant_facts(organisation, category, matching_funds_fen=values.get("matching_funds_fen"))
    verdicts = eligibility.check(category_rules(category), facts)
    refusal = _refusal_text(v for v in verdicts if v.kind != "matching_funds" or values.get("matching_funds_fen")
                            is not None)
    if refusal:
        raise ServiceError(refusal, 409)
    application = Application(call_id=category.call_id, category_id=category.id, organisation_id=organisation.id,
                              created_by_id=getattr(actor, "id", None), status=ApplicationStatus.DRAFT, **values)
    application.call, application.category, application.organisation = category.call, category, organisation
    db.session.add(application)
    db.session.flush()
    record("application.created", application, actor=actor,
           details={"call": category.call.code, "category": category.code})
    return application


def _ensure_editable(application: Application) -> None:
    if application.status not in EDITABLE_STATES:
        raise ServiceError(_("Only a draft or an application returned for correction can be changed."), 409)


def update_application(application: Application, fields: Mapping[str, Any], *, actor) -> None:
    _ensure_editable(application)
    values = _cleaned(application.category, fields)
    before = snapshot(application, values)
    for name, value in values.items():
        setattr(application, name, value)
    record_changes("application.changed", application, before, actor=actor)


def set_budget_lines(application: Application, lines: list[Mapping[str, Any]], *, actor) -> None:
    """Replace the budget: each line an item and an amount in yuan; they must sum to the request."""
    _ensure_editable(application)
    rows = [line for line in lines if any(str(line.get(key) or "").strip() for key in ("item", "amount", "note"))]
    if not rows:
        raise ServiceError(_("Give at least one budget line."))
    if len(rows) > MAX_BUDGET_LINES:
        raise ServiceError(_("At most %(count)d budget lines.", count=MAX_BUDGET_LINES))
    cleaned = []
    for number, line in enumerate(rows, start=1):
        label = _("Budget line %(number)d", number=number)
        item = clean_text(line.get("item"), label, max_length=column_length(BudgetLine, "item"), required=True)
        amount = parse_fen(line.get("amount"), label)
        if amount <= 0:
            raise ServiceError(_("%(field)s: the amount must be more than zero.", field=label))
        note = clean_text(line.get("note"), label, max_length=column_length(BudgetLine, "note"))
        cleaned.append(BudgetLine(position=number, item=item, amount_fen=amount, note=note))
    total = sum(line.amount_fen for line in cleaned)
    if total != application.requested_fen:
        raise ServiceError(_("The budget lines sum to %(total)s but the requested amount is %(requested)s.",
                             total=money(total), requested=money(application.requested_fen)))
    application.budget_lines[:] = cleaned
    db.session.flush()
    record("application.budget_set", application, actor=actor,
           details={"lines": [[line.item, line.amount_fen] for line in cleaned], "total_fen": total})


def add_planned_event(application: Application, fields: Mapping[str, Any], *, actor) -> PlannedEvent:
    _ensure_editable(application)
    if fields.get("kind") not in set(EventKind):
        raise ServiceError(_("Please choose the kind of event."))
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on") or fields.get("starts_on")
    if starts_on is None:
        raise ServiceError(_("Please give the planned date."))
    if ends_on < starts_on:
        raise ServiceError(_("The last day cannot come before the first."))
    if fields.get("filing_status") not in (None, "", *FilingStatus):
        raise ServiceError(_("Please choose the filing status from the list."))
    if fields.get("district") not in (None, "", *District):
        raise ServiceError(_("Please choose the district from the list."))
    attendance = fields.get("expected_attendance")
    if attendance is not None and not 0 <= attendance <= 1_000_000:
        raise ServiceError(_("The expected attendance is a number of people."))
    planned = PlannedEvent(
        position=len(application.planned_events) + 1, kind=EventKind(fields["kind"]),
        title=clean_text(fields.get("title"), _l("Event title"), max_length=column_length(PlannedEvent, "title"),
                         required=True),
        starts_on=starts_on, ends_on=ends_on,
        venue=clean_text(fields.get("venue"), _l("Venue"), max_length=column_length(PlannedEvent, "venue")),
        district=District(fields["district"]) if fields.get("district") in set(District) else None,
        expected_attendance=attendance,
        filing_status=FilingStatus(fields.get("filing_status") or FilingStatus.NOT_NEEDED),
    )
    application.planned_events.append(planned)
    db.session.flush()
    record("application.planned_event_added", application, actor=actor,
           details={"title": planned.title, "kind": str(planned.kind), "starts_on": starts_on.isoformat()})
    return planned


def remove_planned_event(application: Application, planned: PlannedEvent, *, actor) -> None:
    _ensure_editable(application)
    application.planned_events.remove(planned)
    record("application.planned_event_removed", application, actor=actor, details={"title": planned.title})


def add_co_organiser(application: Application, fields: Mapping[str, Any], *, actor) -> CoOrganiser:
    _ensure_editable(application)
    organisation = None
    if fields.get("organisation_id"):
        organisation = db.session.get(Organisation, fields["organisation_id"])
        if organisation is None:
            raise ServiceError(_("Please choose an organisation from the list."))
        if organisation.id == application.organisation_id:
            raise ServiceError(_("The applicant itself is not a co-organiser."))
    name = organisation.name_zh if organisation else clean_text(
        fields.get("name"), _l("Co-organiser"), max_length=column_length(CoOrganiser, "name"), required=True)
    responsibility = clean_text(fields.get("responsibility"), _l("Responsibility"),
                                max_length=column_length(CoOrganiser, "responsibility"), required=True)
    if any(c.name == name for c in application.co_organisers):
        raise ServiceError(_("%(name)s is already a co-organiser.", name=name))
    co_organiser = CoOrganiser(position=len(application.co_organisers) + 1, organisation_id=getattr(
        organisation, "id", None), name=name, responsibility=responsibility)
    application.co_organisers.append(co_organiser)
    db.session.flush()
    record("application.co_organiser_added", application, actor=actor,
           details={"name": name, "responsibility": responsibility})
    return co_organiser


def remove_co_organiser(application: Application, co_organiser: CoOrganiser, *, actor) -> None:
    _ensure_editable(application)
    application.co_organisers.remove(co_organiser)
    record("application.co_organiser_removed", application, actor=actor, details={"name": co_organiser.name})


def add_attachment(application: Application, file, *, actor) -> ApplicationAttachment:
    """Keep a PDF, DOCX or XLSX (its kind read from its bytes) with the application."""
    _ensure_editable(application)
    stored = store_upload(file, "programs", allowed=ATTACHMENT_KINDS, max_bytes=ATTACHMENT_MAX_BYTES)
    attachment = ApplicationAttachment(path=stored.path, original_name=stored.original_name,
                                       file_kind=stored.extension, size_bytes=stored.size)
    application.attachments.append(attachment)
    db.session.flush()
    record("application.attachment_added", application, actor=actor,
           details={"file": stored.original_name, "kind": stored.extension, "bytes": stored.size,
                    "sha256": stored.sha256})
    return attachment


def remove_attachment(application: Application, attachment: ApplicationAttachment, *, actor) -> None:
    _ensure_editable(application)
    application.attachments.remove(attachment)
    record("application.attachment_removed", application, actor=actor, details={"file": attachment.original_name})


# --- submitting ------------------------------------------------------------------------------

def submission_refusal(application: Application) -> str | None:
    """Why the application cannot be submitted now (the workflow's guard), or None."""
    refusal = window_refusal(application.call)
    if refusal:
        return refusal
    if not application.budget_lines:
        return _("Give the budget lines before submitting.")
    if application.budget_total_fen != application.requested_fen:
        return _("The budget lines sum to %(total)s but the requested amount is %(requested)s.",
                 total=money(application.budget_total_fen), requested=money(application.requested_fen))
    if application.requested_fen > application.category.cap_fen:
        return _("The requested amount %(requested)s exceeds the %(cap)s of category %(category)s.",
                 requested=money(application.requested_fen), cap=money(application.category.cap_fen),
                 category=application.category.code)
    if not application.planned_events:
        return _("Plan at least one event before submitting.")
    return _refusal_text(check_eligibility(application.organisation, application.category, application=application))


def submit(application: Application, *, actor) -> None:
    first = application.submitted_at is None
    APPLICATION.apply(application, "submit", actor=actor,
                      details={"requested_fen": application.requested_fen, "resubmission": not first})
    application.submitted_at = utcnow()
    messages.tell_staff_of_submission(application)


def withdrawal_refusal(application: Application) -> str | None:
    """A submitted application is in the call's competition once the call has closed."""
    if application.status == ApplicationStatus.SUBMITTED and window_refusal(application.call):
        return _("After the call has closed a submitted application can no longer be withdrawn.")
    return None


def withdraw(application: Application, *, actor, comment: str | None = None) -> None:
    APPLICATION.apply(application, "withdraw", actor=actor, comment=comment)


def confirm_rule(application: Application, index: int, *, actor, comment: str) -> None:
    """Staff confirm a free-text condition of the call (a staff-confirmed rule)."""
    if application.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED):
        raise ServiceError(_("Conditions are confirmed during formal review."), 409)
    rules = category_rules(application.category)
    if not 0 <= index < len(rules) or rules[index].kind != "staff_confirmed":
        raise ServiceError(_("This condition is not one staff confirm."), 404)
    if index in application.confirmed_rules:
        return
    application.confirmed_rules = sorted({*application.confirmed_rules, index})
    record("application.rule_confirmed", application, actor=actor, comment=comment,
           details={"rule": index, "text": rules[index].text_zh})


# --- listing ---------------------------------------------------------------------------------

def counts_by_status(call: Call) -> dict[str, int]:
    return dict(db.session.execute(select(Application.status, func.count()).where(Application.call_id == call.id)
                                   .group_by(Application.status)).all())
