"""User accounts: one table for every role."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from conference_app.core.db import AuditedMixin, TimestampMixin, TitledEnum, UTCDateTime, VersionedMixin, utcnow
from conference_app.core.enums import TitledStrEnum
from conference_app.core.permissions import Role
from conference_app.extensions import db


class User(UserMixin, AuditedMixin, VersionedMixin, TimestampMixin, db.Model):
    """A person who logs in. Society users belong to exactly one organisation."""

    __tablename__ = "users"
    # Kept up to date without a decision of anyone's (a login writes its own entry).
    __audit_exempt__ = frozenset({"updated_at", "last_login_at", "locale", "failed_logins", "locked_until"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(TitledEnum(Role, 20), nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # False for a disabled account and for a self-registered one awaiting approval.
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # True for a self-registered account that approval of its organisation will enable; an
    # account staff disabled (or enabled) themselves is not touched by the approval.
    awaiting_approval: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN", nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation = relationship("Organisation", back_populates="users", foreign_keys=[organisation_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def owner_organisation_id(self) -> int | None:
        """A user record is owned by its organisation (for its administrators)."""
        return self.organisation_id

    @property
    def password_fingerprint(self) -> str:
        """Changes whenever the password does: ends old sessions and used reset links."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    # The key of the login session this object was loaded for (``accounts.services``).
    session_key = None  # a plain attribute, not a column

    def get_id(self) -> str:
        """The session key Flask-Login keeps in the cookie: ``<user id>:<session token>``."""
        if self.session_key is None:
            raise RuntimeError("no login session: use accounts.services.start_session")
        return self.session_key

    @property
    def audit_label(self) -> str:
        return f"{self.name} <{self.email}>"

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class LoginFailure(db.Model):
    """A failed login, kept for a while: repeated failures lock the typed address and the client address."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(45), nullable=False, index=True)  # "" when unknown
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)  # as typed, normalised
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)


class UserSession(db.Model):
    """One login session (a browser, a device): logging out ends it, and only it.

    The cookie carries the user id and a random token; the row keeps the token's hash and
    the password fingerprint at login, so a copied cookie dies with its session and every
    session dies with a new password, however it was set.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_fingerprint: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class TokenScope(TitledStrEnum):
    """What an API token may do (more scopes come with more of the API)."""

    CHECKIN = "checkin", _l("Check people in at events")
    REVIEW = "review", _l("Read and save one's own expert reviews")
    SELECTION = "selection", _l("Read selection rounds and their candidates")
    JOBS = "jobs", _l("Start background jobs and follow them")


class ApiToken(TimestampMixin, AuditedMixin, db.Model):
    """A per-user token for the JSON API (scanner devices, partner sites): scoped, revocable,
    kept only as a hash. It acts with its user's permissions, within its scope."""

    __tablename__ = "api_tokens"
    __audit_exempt__ = frozenset({"updated_at", "last_used_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    scope: Mapped[TokenScope] = mapped_column(TitledEnum(TokenScope, 40), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)  # shown in lists to tell tokens apart
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")

    @property
    def audit_label(self) -> str:
        return f"{self.prefix}… {self.name}"
