"""Forms of the events pages; every message is translated."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """No fields, only the CSRF token: for buttons that post (cancel, check in)."""
