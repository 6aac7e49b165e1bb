"""Signed, expiring, single-use tokens for links in mail (password reset, resubmission ...).

A token names a purpose (its signing salt, so a token of one purpose never opens another),
a subject id and a fingerprint of the subject's current state. It is refused when the
signature is wrong, when it is older than its purpose allows, or when the subject's
fingerprint has changed since it was issued. Using a token changes that state (a new
password, a resubmitted record), so each link works once, with no table of spent tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


@dataclass(frozen=True)
class TokenPurpose:
    """What a kind of token is for and how long it lives (seconds, from a setting or fixed)."""

    salt: str
    max_age_setting: str | None = None
    max_age_seconds: int | None = None

    def max_age(self) -> int:
        """The lifetime in seconds."""
        if self.max_age_setting is not None:
            return int(current_app.config[self.max_age_setting])
        if self.max_age_seconds is None:
            raise ValueError(f"token purpose {self.salt!r} has no lifetime")
        return self.max_age_seconds

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.secret_key, salt=self.salt)

    def issue(self, subject_id: int, fingerprint: str) -> str:
        """A token for ``subject_id`` in its current state (``fingerprint``)."""
        return self._serializer().dumps([subject_id, fingerprint])

    def redeem(self, token: str, fingerprint_of: Callable[[int], str | None]) -> int | None:
        """The subject id of a valid token whose subject is still in the state it was issued
        for (``fingerprint_of(subject_id)`` equals the token's; None when the subject is
        gone); None otherwise."""
        try:
            subject_id, fingerprint = self._serializer().loads(token, max_age=self.max_age())
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(subject_id, int) or not isinstance(fingerprint, str):
            return None
        current = fingerprint_of(subject_id)
        return subject_id if current is not None and current == fingerprint else None
