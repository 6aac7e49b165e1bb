"""Operations on organisations: registration, review, editing, past events, eligibility.

Every function validates its input, raises ``ServiceError`` with a translated message on
bad input, records its audit entries and flushes; the caller commits, or rolls back on
``ServiceError`` so that nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from conference_app.accounts import services as accounts
from conference_app.accounts.models import User
from conference_app.audit.models import AuditEntry
from conference_app.audit.services import (
    record,
    register_action_titles,
    register_object_type_titles,
    register_state_titles,
)
from conference_app.core import mail
from conference_app.core.db import contains_text, utcnow
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError, flush
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

BEIJING = ZoneInfo("Asia/Shanghai")
EARLIEST_EVENT_YEAR = 1949

ORGANISATION_FIELDS = frozenset(ORGANISATION_FIELD_LABELS)
# What a society's own administrator may change; identity and BAST-verified facts stay with staff.
SOCIETY_EDITABLE_FIELDS = frozenset(
    {"name_en", "publishes_journal", "contact_name", "contact_phone", "contact_email", "address"}
)
# What a society declares when it registers itself.
REGISTRATION_FIELDS = SOCIETY_EDITABLE_FIELDS | {"name_zh", "org_type", "credit_code"}
_BOOLEAN_FIELDS = frozenset({"is_bast_member", "in_journal_excellence_plan", "publishes_journal"})

register_object_type_titles({"Organisation": _l("Organisation"), "PastEvent": _l("Past academic event")})
register_state_titles("Organisation", OrganisationStatus.titles())
register_action_titles(
    {
        "organisation.registered": _l("Organisation registered itself"),
        "organisation.created": _l("Organisation added"),
        "organisation.updated": _l("Organisation edited"),
        "organisation.approved": _l("Organisation approved"),
        "organisation.rejected": _l("Organisation rejected"),
        "past_event.added": _l("Past event added"),
        "past_event.removed": _l("Past event removed"),
    }
)


def column_length(model: type, name: str) -> int | None:
    """The declared length of a string column (forms use the same limits)."""
    return getattr(model.__table__.c[name].type, "length", None)


# --- organisations ---------------------------------------------------------------------


def _check_text(label: Any, value: str, limit: int | None = None) -> None:
    """Refuse text longer than its column, or with a NUL character (PostgreSQL cannot store it)."""
    if limit is not None and len(value) > limit:
        raise ServiceError(_("%(field)s must be at most %(max)d characters.", field=label, max=limit))
    if "\x00" in value:
        raise ServiceError(_("%(field)s contains characters that are not allowed.", field=label))


def _cleaned(fields: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Validated, normalised organisation values; raises ServiceError on bad input."""
    unknown = set(fields) - allowed
    if unknown:  # a programming error, not user input: forms carry only allowed fields
        raise ValueError(f"fields not allowed here: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _BOOLEAN_FIELDS:
            value = bool(value)
        elif isinstance(value, str):
            value = value.strip() or None
            if value is not None:
                _check_text(ORGANISATION_FIELD_LABELS[name], value, column_length(Organisation, name))
        values[name] = value
    if "name_zh" in values and not values["name_zh"]:
        raise ServiceError(_("Please enter the Chinese name of the organisation."))
    if values.get("contact_email") and "@" not in values["contact_email"]:
        raise ServiceError(_("Please enter a valid e-mail address."))
    if "org_type" in values and values["org_type"] not in set(OrganisationType):
        raise ServiceError(_("Please choose the organisation type."))
    if "credit_code" in values:
        code = normalise_credit_code(values["credit_code"] or "")
        problem = credit_code_problem(code)
        if problem:
            raise ServiceError(_(problem))
        values["credit_code"] = code
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
    "email": _l("An account with this e-mail address already exists."),
}


def create_organisation(fields: Mapping[str, Any]) -> Organisation:
    """Staff: add an organisation, approved from the start."""
    values = _cleaned(fields, ORGANISATION_FIELDS)
    for required in ("name_zh", "org_type", "credit_code"):
        if required not in values:
            raise ValueError(f"{required} is required")
    _ensure_unique(values)
    organisation = Organisation(**values, status=OrganisationStatus.APPROVED.value)
    db.session.add(organisation)
    flush(UNIQUE_CONFLICTS)
    record("organisation.created", organisation, to_state=organisation.status)
    return organisation


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def update_organisation(
    organisation: Organisation, fields: Mapping[str, Any], allowed: frozenset[str] = ORGANISATION_FIELDS
) -> dict[str, list]:
    """Change the given fields (only those in ``allowed``); returns {field: [old, new]}."""
    values = _cleaned(fields, allowed)
    _ensure_unique(values, organisation)
    changes = {
        name: [_json_value(getattr(organisation, name)), _json_value(value)]
        for name, value in values.items()
        if getattr(organisation, name) != value
    }
    if not changes:
        return changes
    for name in changes:
        setattr(organisation, name, values[name])
    flush(UNIQUE_CONFLICTS)
    record("organisation.updated", organisation, details={"changes": changes})
    return changes


def _clean_user_fields(name: str, email: str, password: str) -> tuple[str, str]:
    name = (name or "").strip()
    email = accounts.normalise_email(email)
    if not name:
        raise ServiceError(_("Please enter your name."))
    _check_text(_("Name"), name, column_length(User, "name"))
    if "@" not in email:
        raise ServiceError(_("Please enter a valid e-mail address."))
    _check_text(_("E-mail"), email, column_length(User, "email"))
    problem = accounts.password_problem(password)
    if problem:
        raise ServiceError(problem)
    with db.session.no_autoflush:
        if accounts.find_user(email) is not None:
            raise ServiceError(_("An account with this e-mail address already exists."))
    return name, email


def register_society(fields: Mapping[str, Any], *, user_name: str, email: str, password: str) -> User:
    """Public self-registration: a pending organisation and its first user, its administrator,
    disabled until staff approve the organisation."""
    values = _cleaned(fields, REGISTRATION_FIELDS)
    _ensure_unique(values)
    user_name, email = _clean_user_fields(user_name, email, password)
    organisation = Organisation(**values, status=OrganisationStatus.PENDING.value)
    user = User(
        name=user_name,
        email=email,
        role=Role.SOCIETY.value,
        organisation=organisation,
        is_org_admin=True,
        is_enabled=False,
        awaiting_approval=True,
    )
    user.set_password(password)
    db.session.add_all([organisation, user])
    flush(UNIQUE_CONFLICTS)
    record("organisation.registered", organisation, to_state=organisation.status, actor=user)
    return user


def _review(organisation: Organisation, reviewer: User, to_state: OrganisationStatus, comment: str | None) -> None:
    from_state = organisation.status
    organisation.status = to_state.value
    organisation.reviewed_at = utcnow()
    organisation.reviewed_by_id = reviewer.id
    organisation.review_comment = comment
    record(
        f"organisation.{to_state.value}",
        organisation,
        from_state=from_state,
        to_state=to_state.value,
        comment=comment,
        actor=reviewer,
    )


def _notify_users(organisation: Organisation, subject, body) -> None:
    """Tell the organisation's users of a decision, once it is committed.

    ``subject`` and ``body`` are lazy strings: each user's message is written in that user's
    language, not in the reviewer's.
    """
    for user in organisation.users:
        with force_locale(user.locale):
            mail.send(user.email, str(subject), str(body))


def approve_organisation(organisation: Organisation, reviewer: User, comment: str | None = None) -> None:
    """Staff: approve a pending (or earlier rejected) organisation and enable its waiting users."""
    if organisation.status == OrganisationStatus.APPROVED:
        raise ServiceError(_("This organisation is already approved."))
    comment = (comment or "").strip() or None
    if comment:
        _check_text(_("Comment"), comment)
    _review(organisation, reviewer, OrganisationStatus.APPROVED, comment)
    for user in organisation.users:
        if user.awaiting_approval:  # not an account staff disabled on purpose
            accounts.set_enabled(user, True)
    flush(UNIQUE_CONFLICTS)
    _notify_users(
        organisation,
        _l("Your organisation's registration is approved"),
        _l(
            "Hello,\n\n%(name)s is approved on the Capital Academic Platform of the Beijing Association for "
            "Science and Technology. You can now log in with your e-mail address and password.\n",
            name=organisation.name_zh,
        ),
    )


def reject_organisation(organisation: Organisation, reviewer: User, comment: str | None) -> None:
    """Staff: reject a pending registration, saying why; its users stay disabled."""
    if organisation.status != OrganisationStatus.PENDING:
        raise ServiceError(_("Only a registration waiting for review can be rejected."))
    comment = (comment or "").strip()
    if not comment:
        raise ServiceError(_("Please give the reason for the rejection."))
    _check_text(_("Comment"), comment)
    _review(organisation, reviewer, OrganisationStatus.REJECTED, comment)
    flush(UNIQUE_CONFLICTS)
    _notify_users(
        organisation,
        _l("Your organisation's registration was not approved"),
        _l(
            "Hello,\n\nthe registration of %(name)s on the Capital Academic Platform was not approved, for this "
            "reason:\n\n%(comment)s\n\nPlease contact program staff of the Beijing Association for Science and "
            "Technology.\n",
            name=organisation.name_zh,
            comment=comment,
        ),
    )


def review_history(organisation: Organisation) -> list[AuditEntry]:
    """The organisation's audit entries (registration, edits, reviews), newest first."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.object_type == "Organisation", AuditEntry.object_id == str(organisation.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    return list(db.session.scalars(query))


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
    search = (search or "").replace("\x00", "").strip()
    if search:
        query = query.where(
            or_(*(contains_text(column, search)
                  for column in (Organisation.name_zh, Organisation.name_en, Organisation.credit_code)))
        )
    return query


def count_organisations(status: str) -> int:
    """How many organisations are in ``status`` (e.g. waiting for review)."""
    query = select(func.count()).select_from(Organisation).where(Organisation.status == str(status))
    return db.session.scalar(query)


# --- past events -----------------------------------------------------------------------


def add_past_event(
    organisation: Organisation, *, year: int, kind: str, title: str, role: str, held_in_beijing: bool = True
) -> PastEvent:
    """Record an academic event the organisation held before."""
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("Please enter the title of the event."))
    _check_text(_("Title"), title, column_length(PastEvent, "title"))
    this_year = datetime.now(BEIJING).year
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
        organisation=organisation, year=year, kind=kind, title=title, role=role, held_in_beijing=bool(held_in_beijing)
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
