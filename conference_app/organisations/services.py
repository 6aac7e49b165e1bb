"""Operations on organisations: registration, review, resubmission, editing, past events.

Every function validates its input, raises ``ServiceError`` with a translated message on
bad input, records its audit entries and flushes; the request pipeline (or the command
line's unit of work) commits, or rolls everything back on a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from conference_app.accounts import services as accounts
from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.audit.services import (
    record,
    record_changes,
    register_action_titles,
    register_field_titles,
    snapshot,
)
from conference_app.core import mail
from conference_app.core.db import column_length, contains_text, lock, utcnow
from conference_app.core.excel import Column
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text, strip_nul
from conference_app.core.timeutil import beijing_today
from conference_app.core.tokens import TokenPurpose
from conference_app.extensions import db
from conference_app.organisations.credit_code import credit_code_problem, normalise_credit_code
from conference_app.organisations.models import (
    ORGANISATION_FIELD_LABELS,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    PastEvent,
    PastEventKind,
    PastEventRole,
)
from conference_app.organisations.workflow import ORGANISATION

EARLIEST_EVENT_YEAR = 1949

ORGANISATION_FIELDS = frozenset(ORGANISATION_FIELD_LABELS)
# What a society's own administrator may change; identity and BAST-verified facts stay with staff.
SOCIETY_EDITABLE_FIELDS = frozenset(
    {"name_en", "publishes_journal", "contact_name", "contact_phone", "contact_email", "address"}
)
# What a society declares when it registers itself (and corrects when it resubmits).
REGISTRATION_FIELDS = SOCIETY_EDITABLE_FIELDS | {"name_zh", "org_type", "credit_code"}
_BOOLEAN_FIELDS = frozenset({"is_bast_member", "in_journal_excellence_plan", "publishes_journal"})
# The applicant's link from a successful login to the correction form: one hour, and spent
# once the registration is resubmitted (its status is part of the fingerprint).
RESUBMISSION = TokenPurpose("registration-resubmission", max_age_seconds=3600)

register_field_titles("Organisation", ORGANISATION_FIELD_LABELS)
register_action_titles(
    {
        "organisation.registered": _l("Organisation registered itself"),
        "organisation.registration_refused": _l("Registration refused: the e-mail address has an account"),
        "organisation.created": _l("Organisation added"),
        "organisation.updated": _l("Organisation edited"),
        "past_event.added": _l("Past event added"),
        "past_event.removed": _l("Past event removed"),
    }
)


# --- organisations ---------------------------------------------------------------------


def _cleaned(fields: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Validated, normalised organisation values; raises ServiceError on bad input."""
    unknown = set(fields) - allowed
    if unknown:  # a programming error, not user input: forms carry only allowed fields
        raise ValueError(f"fields not allowed here: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _BOOLEAN_FIELDS:
            value = bool(value)
        elif name == "credit_code":
            value = normalise_credit_code(value or "")  # spaces and hyphens as people type them
        elif isinstance(value, str):
            value = clean_text(value, ORGANISATION_FIELD_LABELS[name], max_length=column_length(Organisation, name))
        values[name] = value
    if "name_zh" in values and not values["name_zh"]:
        raise ServiceError(_("Please enter the Chinese name of the organisation."))
    if values.get("contact_email") and "@" not in values["contact_email"]:
        raise ServiceError(_("Please enter a valid e-mail address."))
    if "org_type" in values:
        if values["org_type"] not in set(OrganisationType):
            raise ServiceError(_("Please choose the organisation type."))
        values["org_type"] = OrganisationType(values["org_type"])
    if "credit_code" in values:
        problem = credit_code_problem(values["credit_code"])
        if problem:
            raise ServiceError(_(problem))
    if values.get("is_bast_member") is False:
        values["bast_member_since"] = None
    return values


def _ensure_unique(values: Mapping[str, Any], organisation: Organisation | None = None) -> None:
    """A clear message when the Chinese name or credit code is already taken."""
    messages = {
        "name_zh": _("An organisation with this Chinese name is already registered."),
        "credit_code": _("An organisation with this unified social credit code is already registered."),
    }
    with db.session.no_autoflush:
        for name, message in messages.items():
            if name not in values:
                continue
            query = select(Organisation.id).where(getattr(Organisation, name) == values[name])
            if organisation is not None and organisation.id is not None:
                query = query.where(Organisation.id != organisation.id)
            if db.session.scalar(query.limit(1)) is not None:
                raise ServiceError(message)


# What a unique constraint refusing a flush means (see core.services.flush).
UNIQUE_CONFLICTS = {
    "credit_code": _l("An organisation with this unified social credit code is already registered."),
    "name_zh": _l("An organisation with this Chinese name is already registered."),
}


def create_organisation(fields: Mapping[str, Any]) -> Organisation:
    """Staff: add an organisation, approved from the start."""
    values = _cleaned(fields, ORGANISATION_FIELDS)
    for required in ("name_zh", "org_type", "credit_code"):
        if required not in values:
            raise ValueError(f"{required} is required")
    _ensure_unique(values)
    organisation = Organisation(**values, status=OrganisationStatus.APPROVED)
    db.session.add(organisation)
    flush(UNIQUE_CONFLICTS)
    record("organisation.created", organisation, to_state=organisation.status)
    return organisation


def update_organisation(
    organisation: Organisation, fields: Mapping[str, Any], allowed: frozenset[str] = ORGANISATION_FIELDS,
    actor: User | None = None,
) -> dict[str, list]:
    """Change the given fields (only those in ``allowed``); returns {field: [old, new]}."""
    values = _cleaned(fields, allowed)
    _ensure_unique(values, organisation)
    before = snapshot(organisation, values)
    for name, value in values.items():
        setattr(organisation, name, value)
    flush(UNIQUE_CONFLICTS)
    entry = record_changes("organisation.updated", organisation, before, actor=actor)
    return entry.details["changes"] if entry is not None else {}


# --- self-registration -------------------------------------------------------------------


def _clean_user_fields(name: str, email: str, password: str) -> tuple[str, str]:
    name = clean_text(name, _("Name"), max_length=column_length(User, "name"), required=True,
                      required_message=_("Please enter your name."))
    email = accounts.normalise_email(email)
    if "@" not in email:
        raise ServiceError(_("Please enter a valid e-mail address."))
    clean_text(email, _("E-mail"), max_length=column_length(User, "email"))
    problem = accounts.password_problem(password, user_inputs=(name, email))
    if problem:
        raise ServiceError(problem)
    return name, email


def _check_registration_rate(ip_address: str | None) -> None:
    """One client address registers at most REGISTRATION_IP_MAX times per window (429)."""
    if not ip_address:
        return
    config = current_app.config
    lock(f"registration:{ip_address}")
    since = utcnow() - timedelta(minutes=config["REGISTRATION_WINDOW_MINUTES"])
    count = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(["organisation.registered", "organisation.registration_refused"]),
            AuditEntry.ip_address == ip_address,
            AuditEntry.created_at >= since,
        )
    )
    if count >= config["REGISTRATION_IP_MAX"]:
        raise ServiceError(_("Too many registrations from your network. Please try again later."), 429)


def register_society(
    fields: Mapping[str, Any], *, user_name: str, email: str, password: str, ip_address: str | None = None
) -> User | None:
    """Public self-registration: a pending organisation and its first user, its administrator,
    disabled until staff approve the organisation.

    An address that already has an account gets the same answer as a new one (nothing is
    created; the address is told by mail), so the form does not tell strangers who has an
    account. Returns the new user, or None in that case.
    """
    _check_registration_rate(ip_address)
    values = _cleaned(fields, REGISTRATION_FIELDS)
    _ensure_unique(values)
    user_name, email = _clean_user_fields(user_name, email, password)
    with db.session.no_autoflush:
        existing = accounts.find_user(email)
    if existing is not None:
        accounts.spend_password_hashing_time(password)  # as long as creating the account would take
        _refuse_registration_of_known_address(existing, values["name_zh"])
        return None
    organisation = Organisation(**values, status=OrganisationStatus.PENDING)
    user = User(
        name=user_name,
        email=email,
        role=Role.SOCIETY,
        organisation=organisation,
        is_org_admin=True,
        is_enabled=False,
        awaiting_approval=True,
    )
    user.set_password(password)
    db.session.add_all([organisation, user])
    flush(UNIQUE_CONFLICTS | {"email": _l("An account with this e-mail address already exists.")})
    record("organisation.registered", organisation, to_state=organisation.status, actor=user)
    mail.send_to(
        user,
        _l("Registration received"),
        _l(
            "Hello %(name)s,\n\nwe received the registration of %(organisation)s on the Capital Academic "
            "Platform. Program staff of the Beijing Association for Science and Technology will review it; "
            "you will be told the decision by e-mail, and can log in once it is approved:\n\n%(login)s\n",
            name=user.name,
            organisation=organisation.name_zh,
            login=mail.public_url("accounts.login"),
        ),
    )
    return user


def _refuse_registration_of_known_address(user: User, organisation_name: str) -> None:
    record("organisation.registration_refused", None, object_type="Organisation", object_label=organisation_name,
           details={"email": user.email})
    mail.send_to(
        user,
        _l("Someone registered with your e-mail address"),
        _l(
            "Hello %(name)s,\n\nsomebody tried to register %(organisation)s on the Capital Academic Platform "
            "with your e-mail address, which already has an account; nothing was registered.\n\nIf it was you, "
            "log in with your account instead:\n\n%(login)s\n\nIf you forgot your password, ask for a new one "
            "there. If it was not you, you can ignore this message.\n",
            name=user.name,
            organisation=organisation_name,
            login=mail.public_url("accounts.login"),
        ),
    )


# --- review ------------------------------------------------------------------------------


def _note_review(organisation: Organisation, reviewer: User, comment: str | None) -> None:
    organisation.reviewed_at = utcnow()
    organisation.reviewed_by_id = reviewer.id
    organisation.review_comment = comment


def _notify_users(organisation: Organisation, subject, body) -> None:
    """Tell the organisation's users of a decision, each in that user's language."""
    for user in organisation.users:
        mail.send_to(user, subject, body)


def approve_organisation(organisation: Organisation, reviewer: User, comment: str | None = None) -> None:
    """Staff: approve a pending (or earlier rejected) organisation and enable its waiting users."""
    entry = ORGANISATION.apply(organisation, "approve", actor=reviewer, comment=comment)
    _note_review(organisation, reviewer, entry.comment)
    for user in organisation.users:
        if user.awaiting_approval:  # not an account staff disabled on purpose
            accounts.set_enabled(user, True)
    flush(UNIQUE_CONFLICTS)
    _notify_users(
        organisation,
        _l("Your organisation's registration is approved"),
        _l(
            "Hello,\n\n%(name)s is approved on the Capital Academic Platform of the Beijing Association for "
            "Science and Technology. You can now log in with your e-mail address and password:\n\n%(login)s\n",
            name=organisation.name_zh,
            login=mail.public_url("accounts.login"),
        ),
    )


def reject_organisation(organisation: Organisation, reviewer: User, comment: str | None) -> None:
    """Staff: reject a pending registration, saying why; its users stay disabled and may
    correct the record and resubmit it (they are told how)."""
    entry = ORGANISATION.apply(organisation, "reject", actor=reviewer, comment=comment)
    _note_review(organisation, reviewer, entry.comment)
    flush(UNIQUE_CONFLICTS)
    _notify_users(
        organisation,
        _l("Your organisation's registration was not approved"),
        _l(
            "Hello,\n\nthe registration of %(name)s on the Capital Academic Platform was not approved, for this "
            "reason:\n\n%(comment)s\n\nTo correct the registration and submit it again, log in with your e-mail "
            "address and password:\n\n%(login)s\n\nFor questions, please contact program staff of the Beijing "
            "Association for Science and Technology.\n",
            name=organisation.name_zh,
            comment=entry.comment,
            login=mail.public_url("accounts.login"),
        ),
    )


def may_resubmit(user: User) -> bool:
    """Whether a user whose login was refused may correct their rejected registration."""
    organisation = user.organisation
    return (
        organisation is not None
        and organisation.status == OrganisationStatus.REJECTED
        and user.awaiting_approval
        and ORGANISATION.transition("resubmit") in ORGANISATION.allowed(organisation, user)
    )


def _resubmission_fingerprint(user_id: int) -> str | None:
    user = db.session.get(User, user_id)
    if user is None or user.organisation is None:
        return None
    return f"{user.password_fingerprint}:{user.organisation_id}:{user.organisation.status}"


def resubmission_token(user: User) -> str:
    """The link token of an applicant who just proved their password."""
    return RESUBMISSION.issue(user.id, _resubmission_fingerprint(user.id))


def applicant_for_resubmission(token: str) -> User:
    """The applicant a valid, unspent resubmission token names, or ServiceError."""
    user_id = RESUBMISSION.redeem(token, _resubmission_fingerprint)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not may_resubmit(user):
        raise ServiceError(_("This link is invalid, expired or already used. Please log in again."))
    return user


def resubmit_registration(applicant: User, fields: Mapping[str, Any], comment: str | None = None) -> Organisation:
    """The applicant corrects a rejected registration and sends it back for review."""
    organisation = applicant.organisation
    if not may_resubmit(applicant):
        raise ServiceError(_("Only a registration that was not approved can be corrected and resubmitted."), 409)
    update_organisation(organisation, fields, REGISTRATION_FIELDS, actor=applicant)
    # The transition locks the row and checks the state again: a decision taken meanwhile
    # refuses it, and the correction is rolled back with it.
    ORGANISATION.apply(organisation, "resubmit", actor=applicant, comment=comment)
    return organisation


# --- lists -------------------------------------------------------------------------------


def organisation_query(
    *, status: str | None = None, org_type: str | None = None, bast_member: bool | None = None, search: str | None = None
) -> Select:
    """Organisations matching the staff list's filters, by Chinese name."""
    query = select(Organisation).order_by(Organisation.name_zh, Organisation.id)
    if status:
        query = query.where(Organisation.status == status)
    if org_type:
        query = query.where(Organisation.org_type == org_type)
    if bast_member is not None:
        query = query.where(Organisation.is_bast_member.is_(bast_member))
    search = strip_nul(search)
    if search:
        query = query.where(
            or_(*(contains_text(column, search)
                  for column in (Organisation.name_zh, Organisation.name_en, Organisation.credit_code)))
        )
    return query


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


EXPORT_COLUMNS = [
    Column(ORGANISATION_FIELD_LABELS["name_zh"], lambda o: o.name_zh, 30),
    Column(ORGANISATION_FIELD_LABELS["name_en"], lambda o: o.name_en or "", 36),
    Column(ORGANISATION_FIELD_LABELS["org_type"], lambda o: o.org_type.title, 18),
    Column(ORGANISATION_FIELD_LABELS["credit_code"], lambda o: o.credit_code, 22),
    Column(_l("Status"), lambda o: o.status.title, 10),
    Column(ORGANISATION_FIELD_LABELS["is_bast_member"], lambda o: _yes_no(o.is_bast_member), 12),
    Column(ORGANISATION_FIELD_LABELS["bast_member_since"], lambda o: o.bast_member_since, 14),
    Column(ORGANISATION_FIELD_LABELS["in_journal_excellence_plan"], lambda o: _yes_no(o.in_journal_excellence_plan), 14),
    Column(ORGANISATION_FIELD_LABELS["publishes_journal"], lambda o: _yes_no(o.publishes_journal), 10),
    Column(ORGANISATION_FIELD_LABELS["contact_name"], lambda o: o.contact_name or "", 14),
    Column(ORGANISATION_FIELD_LABELS["contact_phone"], lambda o: o.contact_phone or "", 16),
    Column(ORGANISATION_FIELD_LABELS["contact_email"], lambda o: o.contact_email or "", 28),
    Column(ORGANISATION_FIELD_LABELS["address"], lambda o: o.address or "", 30),
    Column(_l("Registered"), lambda o: o.created_at, 20),
]


def count_organisations(status: str) -> int:
    """How many organisations are in ``status`` (e.g. waiting for review)."""
    query = select(func.count()).select_from(Organisation).where(Organisation.status == str(status))
    return db.session.scalar(query)


# --- past events -----------------------------------------------------------------------


def add_past_event(
    organisation: Organisation, *, year: int, kind: str, title: str, role: str, held_in_beijing: bool = True
) -> PastEvent:
    """Record an academic event the organisation held before."""
    title = clean_text(title, _("Title"), max_length=column_length(PastEvent, "title"), required=True,
                       required_message=_("Please enter the title of the event."))
    this_year = beijing_today().year
    if year is None or not EARLIEST_EVENT_YEAR <= year <= this_year:
        raise ServiceError(
            _("The year must be between %(first)d and %(last)d.", first=EARLIEST_EVENT_YEAR, last=this_year)
        )
    if kind not in set(PastEventKind):
        raise ServiceError(_("Please choose the kind of event."))
    if role not in set(PastEventRole):
        raise ServiceError(_("Please choose the organisation's role in the event."))
    with db.session.no_autoflush:
        duplicate = db.session.scalar(
            select(PastEvent.id)
            .where(PastEvent.organisation_id == organisation.id, PastEvent.year == year, PastEvent.title == title)
            .limit(1)
        )
    if duplicate is not None:
        raise ServiceError(_("This event is already recorded for that year."))
    event = PastEvent(
        organisation=organisation, year=year, kind=PastEventKind(kind), title=title, role=PastEventRole(role),
        held_in_beijing=bool(held_in_beijing),
    )
    db.session.add(event)
    flush(UNIQUE_CONFLICTS)
    record("past_event.added", event, details={"organisation_id": organisation.id})
    return event


def remove_past_event(event: PastEvent) -> None:
    """Delete a recorded past event."""
    record("past_event.removed", event, details={"organisation_id": event.organisation_id})
    organisation = event.organisation
    organisation.past_events.remove(event)
    flush(UNIQUE_CONFLICTS)


# --- eligibility (used by the program categories) ----------------------------------------


def past_events(
    organisation: Organisation,
    kinds: Iterable[str] | None = None,
    since_year: int | None = None,
    roles: Iterable[str] | None = None,
    in_beijing: bool | None = None,
) -> list[PastEvent]:
    """The organisation's past events of ``kinds``, in one of ``roles``, from ``since_year`` on,
    held in Beijing or not (None: either); newest first. Each filter left as None applies no limit."""
    query = select(PastEvent).where(PastEvent.organisation_id == organisation.id)
    if kinds is not None:
        query = query.where(PastEvent.kind.in_([str(kind) for kind in kinds]))
    if roles is not None:
        query = query.where(PastEvent.role.in_([str(role) for role in roles]))
    if since_year is not None:
        query = query.where(PastEvent.year >= since_year)
    if in_beijing is not None:
        query = query.where(PastEvent.held_in_beijing.is_(in_beijing))
    return list(db.session.scalars(query.order_by(PastEvent.year.desc(), PastEvent.id)))


def is_eligible_applicant(organisation: Organisation) -> bool:
    """Approved, and a BAST group member or a Journal Excellence Action Plan unit (SPEC 2)."""
    return organisation.status == OrganisationStatus.APPROVED and (
        organisation.is_bast_member or organisation.in_journal_excellence_plan
    )
