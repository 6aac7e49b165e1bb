"""Per-user API tokens: scoped, revocable, kept only as a hash.

A token is ``cap_`` and 43 URL-safe characters (256 random bits). The database keeps its
sha256 (to find it) and its first 12 characters (the prefix lists show, to tell tokens
apart); the token itself is shown once, when it is issued. It authenticates requests to the
JSON API only (``Authorization: Bearer <token>``, never a cookie there) and acts as its user,
with the user's permissions, within its scope: an API view declares the scope it needs with
``@token_scope(...)``. A revoked token, or one whose account may not log in, opens nothing.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from conference_app.accounts.models import ApiToken, TokenScope, User
from conference_app.accounts.services import login_refusal
from conference_app.audit.services import (
    record,
    register_action_titles,
    register_object_type_titles,
    register_state_titles,
)
from conference_app.core.db import column_length, contains_text, utcnow
from conference_app.core.excel import Column
from conference_app.core.permissions import user_can
from conference_app.core.services import ServiceError, flush
from conference_app.core.text import clean_text, strip_nul
from conference_app.extensions import db

TOKEN_PREFIX = "cap_"
_TOKEN_PATTERN = re.compile(r"^cap_[A-Za-z0-9_-]{43}$")
# Kept to the minute: a scanner's every request need not write the token's row.
LAST_USED_PRECISION = timedelta(minutes=1)
ACTIVE, REVOKED = "active", "revoked"

register_object_type_titles({"ApiToken": _l("API token")})
register_state_titles("ApiToken", {ACTIVE: _l("Active"), REVOKED: _l("Revoked")})
register_action_titles({"api_token.issued": _l("API token issued"), "api_token.revoked": _l("API token revoked")})


@dataclass(frozen=True)
class IssuedToken:
    """A new token's row, and the token itself (shown once, never stored)."""

    row: ApiToken
    secret: str


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, scope: str, name: str | None = None) -> IssuedToken:
    """A new token of ``scope`` for ``user`` (an account that may log in), named ``name``."""
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise ServiceError(_("Unknown token scope.")) from None
    refusal = login_refusal(user)
    if refusal is not None:
        raise ServiceError(_("This account may not log in, so it cannot have an API token: %(reason)s",
                             reason=refusal))
    name = clean_text(name, _("Token name"), max_length=column_length(ApiToken, "name"), required=True,
                      required_message=_("Give the token a name (the device or site that will use it)."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, name=name, scope=scope, token_hash=_token_hash(secret),
                   prefix=secret[:column_length(ApiToken, "prefix")])
    db.session.add(row)
    flush()
    record("api_token.issued", row, to_state=ACTIVE, details={"user_id": user.id, "scope": scope.value})
    return IssuedToken(row, secret)


def revoke_token(token: ApiToken, actor: User) -> None:
    """Revoke a token for good (staff any, a user their own); it opens nothing from now on."""
    if not (user_can(actor, "accounts.manage_tokens", token) or user_can(actor, "accounts.own_tokens", token)):
        raise ServiceError(_("You may not revoke this token."), 403)
    if token.revoked_at is not None:
        raise ServiceError(_("This token is already revoked."), 409)
    token.revoked_at = utcnow()
    record("api_token.revoked", token, from_state=ACTIVE, to_state=REVOKED, actor=actor,
           details={"user_id": token.user_id})


def token_for_bearer(authorization: str | None) -> ApiToken | None:
    """The live token an ``Authorization: Bearer <token>`` header carries, or None when the
    header is missing, malformed, or names an unknown or revoked token, or one whose account
    may not log in (disabled, organisation not approved)."""
    scheme, _sep, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not _TOKEN_PATTERN.match(secret):
        return None
    token = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None or login_refusal(token.user) is not None:
        return None
    return token


def note_use(token: ApiToken) -> None:
    """Set ``last_used_at`` when it is older than the precision kept (after the work of a
    request it authorised: a refused request is rolled back, its use with it).

    A counter-like write, outside the audit, done last so that it holds SQLite's write lock
    briefly, and it never waits for a parallel request of the same token (a scanner sending
    many check-ins at once): on PostgreSQL the row is claimed with SKIP LOCKED, so a request
    that finds it being updated leaves the update to that one.
    """
    now = utcnow()
    if token.last_used_at is not None and token.last_used_at > now - LAST_USED_PRECISION:
        return
    claim = (
        select(ApiToken.id)
        .where(ApiToken.id == token.id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_PRECISION))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    db.session.execute(update(ApiToken).where(ApiToken.id == claim).values(last_used_at=now)
                       .execution_options(synchronize_session=False))


# --- API views -----------------------------------------------------------------------------------


def token_scope(scope: TokenScope) -> Callable:
    """Mark an API view as taking a bearer token of ``scope`` (stack it under ``@requires``).

    The request's token (``g.api_token``, set by the accounts request loader) must have that
    scope: another token's is a 403, as is a permission its user lacks. A view that answers
    notes the token's use.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def check_scope(**kwargs):
            token = g.get("api_token")
            if token is None or token.scope != scope:
                raise ServiceError(_("This API token's scope does not allow this: it needs the scope %(scope)s.",
                                     scope=scope.value), 403)
            response = view(**kwargs)
            note_use(token)
            return response

        check_scope.token_scope = scope
        return check_scope

    return decorate


def view_token_scope(view: Callable) -> TokenScope | None:
    """The scope an API view declared with ``@token_scope``, looking through wrappers; None if none."""
    while view is not None:
        scope = getattr(view, "token_scope", None)
        if scope is not None:
            return scope
        view = getattr(view, "__wrapped__", None)
    return None


# --- lists ---------------------------------------------------------------------------------------


def tokens_query(search: str | None = None, scope: str | None = None, status: str | None = None,
                 user: User | None = None):
    """Tokens newest first, with their users: a search over the user, the token's name and
    prefix; a scope; ``"active"`` or ``"revoked"``; only ``user``'s."""
    query = (select(ApiToken).join(ApiToken.user).options(joinedload(ApiToken.user))
             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    search = strip_nul(search)
    if search:
        query = query.where(or_(contains_text(User.name, search), contains_text(User.email, search),
                                contains_text(ApiToken.name, search), contains_text(ApiToken.prefix, search)))
    if scope:
        query = query.where(ApiToken.scope == scope)
    if status == ACTIVE:
        query = query.where(ApiToken.revoked_at.is_(None))
    elif status == REVOKED:
        query = query.where(ApiToken.revoked_at.is_not(None))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return query


EXPORT_COLUMNS = [
    Column(_l("User"), lambda t: t.user.name, 16),
    Column(_l("E-mail"), lambda t: t.user.email, 30),
    Column(_l("Token name"), lambda t: t.name, 24),
    Column(_l("Scope"), lambda t: t.scope.title, 18),
    Column(_l("Prefix"), lambda t: t.prefix, 14),
    Column(_l("Created"), lambda t: t.created_at, 20),
    Column(_l("Last used"), lambda t: t.last_used_at, 20),
    Column(_l("Revoked"), lambda t: t.revoked_at, 20),
]
