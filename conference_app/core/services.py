"""What every domain's services share."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused an operation; ``message`` is shown to the user as is.

    Services raise it before anything is committed; the view flashes the message or
    re-renders its form with status ``status`` (400 unless a rule says otherwise).
    """

    def __init__(self, message, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return str(self.message)
