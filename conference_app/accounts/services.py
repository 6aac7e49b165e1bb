"""Accounts: logging in (with throttling), passwords and user administration.

Views, the command line and tests call these; they flush, record the audit entry and
leave the commit to the caller.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from conference_app.accounts.models import LoginFailure, User, UserSession
from conference_app.audit.models import AuditEntry
from conference_app.audit.services import (
    record,
    record_changes,
    register_action_titles,
    register_field_titles,
    register_object_type_titles,
    register_state_titles,
    snapshot,
)
from conference_app.core import mail
from conference_app.core.db import column_length, contains_text, lock, utcnow
from conference_app.core.excel import Column
from conference_app.core.permissions import Role
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text, strip_nul
from conference_app.core.tokens import TokenPurpose
from conference_app.extensions import db

PASSWORD_MIN_LENGTH = 10
# zxcvbn refuses longer input; a longer password is at least as hard to guess as its start.
ZXCVBN_MAX_LENGTH = 72
# Words of this platform, as guessable in its passwords as the user's own name.
SITE_WORDS = ("bast", "kexie", "beijing", "capital", "academic", "platform", "shoudu", "xueshu")
# Reset links: bound to the password, so setting one spends the link (the salt is the one
# links were always signed with, so links mailed before stay valid).
PASSWORD_RESET = TokenPurpose("password-reset", max_age_setting="PASSWORD_RESET_MAX_AGE_SECONDS")

register_object_type_titles({"User": _l("User account")})
register_state_titles(
    "User",
    {"enabled": _l("Enabled"), "disabled": _l("Disabled"), "locked": _l("Locked")}
    | Role.titles(),
)
register_field_titles("User", {
    "name": _l("Name"), "phone": _l("Phone"), "organisation_id": _l("Organisation"),
    "is_org_admin": _l("Administers the organisation"),
})
register_action_titles({
    "user.login": _l("Logged in"),
    "user.login_failed": _l("Login failed"),
    "user.login_refused": _l("Login refused"),
    "user.login_throttled": _l("Login throttled"),
    "user.locked": _l("Account locked"),
    "user.password_changed": _l("Password changed"),
    "user.password_change_failed": _l("Password change failed: wrong current password"),
    "user.password_change_refused": _l("Password change refused"),
    "user.password_reset_requested": _l("Password reset requested"),
    "user.password_reset_throttled": _l("Password reset refused: too many requests"),
    "user.password_reset": _l("Password reset"),
    "user.created": _l("User created"),
    "user.updated": _l("User edited"),
    "user.role_changed": _l("Role changed"),
    "user.disabled": _l("User disabled"),
    "user.enabled": _l("User enabled"),
})


# --- logging in ---------------------------------------------------------------------------


def normalise_email(email: str | None) -> str:
    """Lower case, no surrounding blanks, no NUL (which PostgreSQL cannot compare)."""
    return (email or "").replace("\x00", "").strip().lower()


def find_user(email: str) -> User | None:
    """The account of an address."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def spend_password_hashing_time(password: str) -> None:
    """Take as long as hashing ``password`` for a new account, without keeping anything
    (so a refusal that creates no account answers as slowly as one that does)."""
    generate_password_hash(password or "", method=current_app.config["PASSWORD_HASH_METHOD"])


class LoginRefused(ServiceError):
    """The password was right but the account may not log in now; ``user`` is the account."""

    def __init__(self, message, user: User) -> None:
        super().__init__(message, 403)
        self.user = user


def authenticate(email: str, password: str, ip_address: str | None) -> User:
    """The user these credentials open, or ServiceError; every attempt is recorded.

    The caller keeps the changes in both cases, so a failed attempt counts towards the locks.
    """
    email = normalise_email(email)
    # Attempts from one address, and attempts on one typed address, wait for each other
    # here (on SQLite every writer does), so each counts the failures of those before it.
    if ip_address:
        lock(f"login-ip:{ip_address}")
    lock(f"login:{email}")
    now = utcnow()
    user = find_user(email)
    throttled = _throttle_refusal(email, ip_address, now)
    if throttled is not None:
        _record_attempt("user.login_throttled", user, email, comment=throttled)
        raise ServiceError(throttled, 429)
    if user is None:
        check_password_hash(_dummy_hash(), password or "")  # same time as a real check
    if user is None or not user.check_password(password or ""):
        _record_failure(user, email, ip_address, now)
        raise ServiceError(_("Wrong e-mail address or password."))
    refusal = login_refusal(user)
    if refusal is not None:
        _record_attempt("user.login_refused", user, email, comment=refusal)
        raise LoginRefused(refusal, user)
    _clear_failures(user)
    user.last_login_at = now
    record("user.login", user, actor=user)
    return user


def _throttle_refusal(email: str, ip_address: str | None, now) -> str | None:
    """Why this attempt is refused before its password is even checked, or None.

    The lock is kept per typed address, whether or not an account has it, so that a locked
    account and an unknown address give the same answer.
    """
    config = current_app.config
    window_start = now - timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    if ip_address and _failures_from(ip_address, window_start) >= config["LOGIN_IP_MAX_FAILURES"]:
        return _("Too many failed logins from your network. Please try again in %(minutes)d minutes.",
                 minutes=config["LOGIN_LOCK_MINUTES"])
    return _lock_refusal(email, now)


def _lock_refusal(email: str, now) -> str | None:
    """Why an attempt on this typed address is refused (it is locked), or None."""
    locked_until = _address_locked_until(email, now)
    if locked_until is None:
        return None
    minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
    return _("This account is locked after repeated failed logins. Please try again in %(minutes)d minutes.",
             minutes=minutes)


def _address_locked_until(email: str, now):
    """When the lock of a typed address ends, or None when it is not locked.

    An address is locked while LOGIN_MAX_FAILURES of its failures fall within the last
    LOGIN_LOCK_MINUTES (a success or a new password clears them); the lock ends when the
    oldest of the latest LOGIN_MAX_FAILURES leaves that window.
    """
    config = current_app.config
    latest = db.session.scalars(
        select(LoginFailure.created_at)
        .where(LoginFailure.email == email[:254],
               LoginFailure.created_at >= now - timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))
        .order_by(LoginFailure.created_at.desc())
        .limit(config["LOGIN_MAX_FAILURES"])
    ).all()
    if len(latest) < config["LOGIN_MAX_FAILURES"]:
        return None
    return latest[-1] + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])


def _record_attempt(action: str, user: User | None, email: str, **fields) -> None:
    """Log a login attempt on the account, or on the typed address when no account has it."""
    if user is None:
        record(action, None, object_type="User", object_label=email or "-", **fields)
    else:
        record(action, user, actor=user, **fields)


def login_refusal(user: User) -> str | None:
    """Why this user may not log in although the password is right, or None."""
    from conference_app.organisations.models import OrganisationStatus

    organisation = user.organisation
    if user.role == Role.SOCIETY and organisation is not None:
        if organisation.status == OrganisationStatus.PENDING:
            return _("Your registration is under review. You can log in once program staff have approved it.")
        if organisation.status == OrganisationStatus.REJECTED:
            return _("Your organisation's registration was not approved. Please contact program staff.")
    if not user.is_enabled:
        return _("This account is disabled. Please contact program staff.")
    return None


def _failures_from(ip_address: str, since) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.ip_address == ip_address, LoginFailure.created_at >= since)
    )


def _record_failure(user: User | None, email: str, ip_address: str | None, now,
                    action: str = "user.login_failed") -> None:
    """Keep a failed attempt (logged as ``action``): one row per attempt (no counter a parallel
    request could overwrite)."""
    config = current_app.config
    # Old failures no longer count; dropping them here keeps the table small.
    db.session.execute(
        delete(LoginFailure).where(LoginFailure.created_at < now - timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))
    )
    db.session.add(LoginFailure(ip_address=ip_address or "", email=email[:254], created_at=now))
    db.session.flush()
    # Counted after this failure is in: the attempt that reaches the limit locks the address.
    locked_until = _address_locked_until(email, now)
    if user is None:
        _record_attempt(action, None, email)
        return
    # The account's own count, incremented in the database, not from a value read earlier.
    failed_logins = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    db.session.expire(user, ["failed_logins"])
    _record_attempt(action, user, email, details={"failed_logins": failed_logins})
    if locked_until is not None:
        user.failed_logins = 0
        user.locked_until = locked_until
        record("user.locked", user, actor=user, to_state="locked")


def _clear_failures(user: User) -> None:
    """A success or a new password: the account's failures so far no longer count."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    user.failed_logins = 0
    user.locked_until = None


# --- passwords ----------------------------------------------------------------------------


def password_problem(password: str | None, user_inputs: Iterable[str | None] = ()) -> str | None:
    """What is wrong with a new password, or None when it is acceptable.

    Besides its length and kinds of characters, zxcvbn must rate it PASSWORD_MIN_SCORE or
    better: common and leaked passwords and their variants, keyboard rows, repeats, sequences
    and dates are refused, and so are passwords made of ``user_inputs`` (the account's name and
    e-mail address) or of this platform's name.
    """
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _("The password must have at least %(count)d characters.", count=PASSWORD_MIN_LENGTH)
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        return _("The password must contain both letters and digits.")
    strength = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=_guessable_words(user_inputs))
    if strength["score"] >= current_app.config["PASSWORD_MIN_SCORE"]:
        return None
    return _weakness(strength["sequence"])


def _guessable_words(user_inputs: Iterable[str | None]) -> list[str]:
    """The words of a name and an e-mail address (whole, in parts, the name run together), and the platform's."""
    words = list(SITE_WORDS)
    for value in user_inputs:
        value = (value or "").lower()
        name = value.partition("@")[0]  # a name, or an address's local part
        words += [value, re.sub(r"[\W_]+", "", name), *re.split(r"[\W_]+", value)]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


def _weakness(matches: list[dict]) -> str:
    """Why zxcvbn finds a password guessable, from the patterns it found in it (its own feedback is English)."""
    if any(match.get("dictionary_name") == "user_inputs" for match in matches):
        return _("The password must not contain the account's name or e-mail address, nor the platform's name.")
    if any(match["pattern"] in {"repeat", "sequence", "spatial"} for match in matches):
        return _("The password is easy to guess: it repeats characters or follows a sequence or a keyboard row "
                 "(aaa, abc, 123, qwerty). Please choose a longer, less regular password.")
    return _("The password is too common or easy to guess. Please choose a longer, less regular password, "
             "for example a few unrelated words with digits or symbols.")


# --- login sessions -----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, ip_address: str | None = None, user_agent: str | None = None) -> str:
    """Open a login session for ``user``; returns its key (``<user id>:<token>``) for the cookie."""
    # Sessions past the absolute lifetime are dead anyway: drop the user's old rows now.
    oldest = utcnow() - timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.created_at < oldest))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        user_id=user.id,
        token_hash=_token_hash(token),
        password_fingerprint=user.password_fingerprint,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:200] or None,
    ))
    user.session_key = f"{user.id}:{token}"
    return user.session_key


def user_for_session(key: str) -> User | None:
    """The enabled user of a live session key; None for an ended, foreign or malformed one.

    A session also ends with a new password, however it was set: the row keeps the
    fingerprint of the password it was opened with.
    """
    user_id, _sep, token = (key or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    row = db.session.execute(
        select(User, UserSession.password_fingerprint)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _token_hash(token), User.id == int(user_id))
    ).first()
    if row is None:
        return None
    user, fingerprint = row
    if not user.is_enabled or fingerprint != user.password_fingerprint:
        return None
    user.session_key = key
    return user


def end_session(key: str | None) -> None:
    """Log out one session (this browser); the user's other sessions go on."""
    _user_id, _sep, token = (key or "").partition(":")
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


def end_all_sessions(user: User) -> int:
    """Log the user out on every device; returns how many sessions ended."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return result.rowcount or 0


# --- setting a password -------------------------------------------------------------------


def _set_password(user: User, password: str) -> None:
    """A new password ends every session of the user (the caller may open a new one)."""
    problem = password_problem(password, user_inputs=(user.name, user.email))
    if problem is not None:
        raise ServiceError(problem)
    user.set_password(password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    _clear_failures(user)


class AccountLocked(ServiceError):
    """This wrong password locked the account (429): the caller ends the session that sent it."""

    def __init__(self, message) -> None:
        super().__init__(message, 429)


def change_password(user: User, current_password: str, new_password: str, ip_address: str | None = None) -> None:
    """Replace the password after checking the current one.

    The check counts like a login, so that a stolen session cannot guess the password: a
    wrong current password is a failed login towards the locks (the caller keeps the
    changes), the one that reaches LOGIN_MAX_FAILURES locks the account (AccountLocked), and
    while the account or the client address is locked the password cannot be changed (429).
    """
    email = normalise_email(user.email)
    if ip_address:
        lock(f"login-ip:{ip_address}")
    lock(f"login:{email}")  # waits for the logins on the account: each counts the failures before it
    now = utcnow()
    refusal = _throttle_refusal(email, ip_address, now)
    if refusal is not None:
        record("user.password_change_refused", user, comment=refusal)
        raise ServiceError(refusal, 429)
    if not user.check_password(current_password or ""):
        _record_failure(user, email, ip_address, now, action="user.password_change_failed")
        refusal = _lock_refusal(email, now)
        if refusal is not None:
            raise AccountLocked(refusal)
        raise ServiceError(_("The current password is wrong."))
    _set_password(user, new_password)
    record("user.password_changed", user)


def reset_token(user: User) -> str:
    """A signed, timed token bound to the current password: using it once spends it."""
    return PASSWORD_RESET.issue(user.id, user.password_fingerprint)


def _enabled_password_fingerprint(user_id: int) -> str | None:
    user = db.session.get(User, user_id)
    return user.password_fingerprint if user is not None and user.is_enabled else None


def user_for_reset_token(token: str) -> User:
    """The user a valid, unspent, unexpired token belongs to, or ServiceError."""
    user_id = PASSWORD_RESET.redeem(token, _enabled_password_fingerprint)
    if user_id is None:
        raise ServiceError(_("This password reset link is invalid, expired or already used. Please request a new one."))
    return db.session.get(User, user_id)


def request_password_reset(email: str, ip_address: str | None = None) -> None:
    """Mail a reset link when the address belongs to an enabled account; silent otherwise.

    Every request is logged, on the account or on the typed address. One client address may
    ask PASSWORD_RESET_IP_MAX times per PASSWORD_RESET_WINDOW_MINUTES, whatever the addresses
    (then a ServiceError, which says nothing about the address); an account gets at most
    PASSWORD_RESET_MAX_MAILS links in that window, and further requests get the same answer
    but no mail, so nobody can flood a mailbox.
    """
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["PASSWORD_RESET_WINDOW_MINUTES"])
    if ip_address and _reset_requests(since, AuditEntry.ip_address == ip_address) >= config["PASSWORD_RESET_IP_MAX"]:
        raise ServiceError(_("Too many password reset requests from your network. Please try again later."), 429)
    email = normalise_email(email)
    user = find_user(email)
    if user is None or not user.is_enabled:
        _record_attempt("user.password_reset_requested", None, email)
        return
    if _reset_requests(since, AuditEntry.object_id == str(user.id), mailed_only=True) >= config["PASSWORD_RESET_MAX_MAILS"]:
        record("user.password_reset_throttled", user)
        return
    _send_password_link(user, _l("Reset your password"))
    record("user.password_reset_requested", user)


def _reset_requests(since, criterion, mailed_only: bool = False) -> int:
    """Password reset requests since ``since`` matching ``criterion`` (from the audit log)."""
    actions = ["user.password_reset_requested"]
    if not mailed_only:
        actions.append("user.password_reset_throttled")
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.in_(actions), AuditEntry.object_type == "User", AuditEntry.created_at >= since, criterion)
    )


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link."""
    user = user_for_reset_token(token)
    _set_password(user, new_password)
    record("user.password_reset", user, actor=user)
    return user


def _send_password_link(user: User, subject) -> None:
    """Mail a set-password link, in the recipient's language rather than the sender's."""
    link = mail.public_url("accounts.reset_password", token=reset_token(user))
    minutes = max(1, current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] // 60)
    body = lazy_ngettext(
        "Hello %(name)s,\n\nopen this link to set the password of your account on the Capital Academic "
        "Platform:\n\n%(link)s\n\nThe link can be used once and expires in %(num)d minute. If you did not "
        "ask for it, ignore this message.\n",
        "Hello %(name)s,\n\nopen this link to set the password of your account on the Capital Academic "
        "Platform:\n\n%(link)s\n\nThe link can be used once and expires in %(num)d minutes. If you did not "
        "ask for it, ignore this message.\n",
        minutes, name=user.name, link=link,
    )
    mail.send_to(user, subject, body)


# --- user administration ------------------------------------------------------------------


def _clean_name_and_phone(name: str | None, phone: str | None) -> tuple[str, str | None]:
    name = clean_text(name, _("Name"), max_length=column_length(User, "name"), required=True,
                      required_message=_("Enter the user's name."))
    return name, clean_text(phone, _("Phone"), max_length=column_length(User, "phone"))


def _check_membership(role: str, organisation_id: int | None, is_org_admin: bool) -> None:
    from conference_app.organisations.models import Organisation

    if role not in set(Role):
        raise ServiceError(_("Unknown role."))
    if role == Role.SOCIETY:
        if not organisation_id or db.session.get(Organisation, organisation_id) is None:
            raise ServiceError(_("A society user must belong to an existing organisation."))
    elif organisation_id:
        raise ServiceError(_("Only society users belong to an organisation."))
    elif is_org_admin:
        raise ServiceError(_("Only society users can administer an organisation."))


def create_user(
    email: str,
    name: str,
    role: str,
    *,
    organisation_id: int | None = None,
    is_org_admin: bool = False,
    phone: str | None = None,
    password: str | None = None,
) -> User:
    """A new, enabled account; without a password the user is mailed a link to set one."""
    email = normalise_email(email)
    if not email or "@" not in email:
        raise ServiceError(_("Enter a valid e-mail address."))
    clean_text(email, _("E-mail"), max_length=column_length(User, "email"))
    name, phone = _clean_name_and_phone(name, phone)
    if find_user(email) is not None:
        raise ServiceError(_("A user with this e-mail address already exists."))
    _check_membership(role, organisation_id, is_org_admin)
    user = User(
        email=email,
        name=name,
        phone=phone,
        role=Role(role),
        organisation_id=organisation_id or None,
        is_org_admin=bool(is_org_admin),
        is_enabled=True,
    )
    if password:
        _set_password(user, password)
    else:
        user.set_password(secrets.token_urlsafe(32))
    db.session.add(user)
    flush({"email": _l("A user with this e-mail address already exists.")})
    if not password:
        _send_password_link(user, _l("Your new account"))
    record("user.created", user, to_state=user.role)
    return user


USER_EDITABLE_FIELDS = ("name", "phone", "organisation_id", "is_org_admin")


def update_user(
    user: User,
    *,
    name: str,
    role: str,
    organisation_id: int | None,
    is_org_admin: bool,
    phone: str | None = None,
    acting_user: User | None = None,
) -> None:
    """Change a user's name, contact, role or organisation; a role change is logged as such."""
    name, phone = _clean_name_and_phone(name, phone)
    if acting_user is not None and acting_user.id == user.id and role != user.role:
        raise ServiceError(_("You cannot change your own role."))
    _check_membership(role, organisation_id, is_org_admin)
    before = snapshot(user, USER_EDITABLE_FIELDS)
    old_role = user.role
    user.name = name
    user.phone = phone
    user.role = Role(role)
    user.organisation_id = organisation_id or None
    user.is_org_admin = bool(is_org_admin)
    if old_role != role:
        record("user.role_changed", user, from_state=old_role, to_state=role)
    record_changes("user.updated", user, before)


def set_enabled(user: User, enabled: bool, acting_user: User | None = None, comment: str | None = None) -> None:
    """Disable or re-enable an account; nobody disables their own.

    Disabling ends every session of the account, so that re-enabling it later brings none of
    them back. Either way the account no longer waits for its organisation's approval to be
    enabled (staff decided on the account itself), and the decision is logged.
    """
    if acting_user is not None and acting_user.id == user.id and not enabled:
        raise ServiceError(_("You cannot disable your own account."))
    if user.is_enabled == enabled and not user.awaiting_approval:
        return
    from_state = "enabled" if user.is_enabled else "disabled"
    user.awaiting_approval = False
    user.is_enabled = enabled
    if not enabled:
        end_all_sessions(user)
    record(
        "user.enabled" if enabled else "user.disabled",
        user,
        from_state=from_state,
        to_state="enabled" if enabled else "disabled",
        comment=comment,
    )


def users_query(search: str | None = None, role: str | None = None, enabled: bool | None = None):
    """The statement behind the staff user list: a name/e-mail search and filters."""
    # The list shows each user's organisation: load them with the page, not one query per row.
    query = select(User).options(joinedload(User.organisation)).order_by(User.email)
    search = strip_nul(search)
    if search:
        query = query.where(contains_text(User.email, search) | contains_text(User.name, search))
    if role:
        query = query.where(User.role == role)
    if enabled is not None:
        query = query.where(User.is_enabled.is_(enabled))
    return query


EXPORT_COLUMNS = [
    Column(_l("Name"), lambda u: u.name, 16),
    Column(_l("E-mail"), lambda u: u.email, 30),
    Column(_l("Role"), lambda u: u.role.title, 14),
    Column(_l("Their organisation"), lambda u: u.organisation.name_zh if u.organisation else "", 30),
    Column(_l("Administrator"), lambda u: _("Yes") if u.is_org_admin else _("No"), 10),
    Column(_l("Phone"), lambda u: u.phone or "", 16),
    Column(_l("Status"), lambda u: _("Enabled") if u.is_enabled else _("Disabled"), 10),
    Column(_l("Last login"), lambda u: u.last_login_at, 20),
    Column(_l("Created"), lambda u: u.created_at, 20),
]


def user_counts() -> dict:
    """How many accounts there are, and how many of them are enabled (the staff home card)."""
    total, enabled = db.session.execute(
        select(func.count(), func.count().filter(User.is_enabled.is_(True))).select_from(User)
    ).one()
    return {"user_count": total, "enabled_user_count": enabled}
