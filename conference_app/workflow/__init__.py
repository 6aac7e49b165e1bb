"""State machines as tables: which transitions exist, from which states, for whom.

A domain declares its table once (``<domain>/workflow.py``)::

    ORGANISATION = Workflow(Organisation, OrganisationStatus, [
        Transition("approve", _l("Approve"), {"pending", "rejected"}, "approved",
                   "organisations.review", done_title=_l("Organisation approved")),
        ...
    ], action_prefix="organisation")

and its services move objects only through ``ORGANISATION.apply(obj, "approve", actor=...)``,
which locks the row, refuses a transition that is not in the table for the object's
state, or that the actor may not take, or that lacks its required comment or fails its
guard, and then sets the state and writes the audit entry (from/to states, comment) in
the same transaction. Side effects (mail, enabling accounts, a first tranche) stay
explicit in the calling service, after ``apply``. ``available(obj, user)`` lists what a
user may do now: the buttons of a page, the items of a to-do list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from conference_app.audit.models import AuditEntry
from conference_app.audit.services import (
    record,
    register_action_titles,
    register_object_type_titles,
    register_state_titles,
)
from conference_app.core.db import lock
from conference_app.core.permissions import PERMISSIONS, user_can
from conference_app.core.services import ServiceError
from conference_app.core.text import clean_text
from conference_app.extensions import db

COMMENT_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Transition:
    """One allowed move: from any of ``sources`` to ``target``, for holders of ``permission``.

    ``permission`` None means the service has proved the caller's right itself (a registrant
    cancelling with the link of their confirmation mail, the system promoting from a
    waiting list): the table then checks no permission, and the actor may be None.
    ``title`` labels its button; ``done_title`` names it in the audit log and the history
    (its action code is ``<prefix>.<done>``, ``done`` defaulting to the name). ``comment`` is
    "optional" or "required". ``guard(obj)`` returns a translated refusal, or None to allow.
    ``wrong_state`` and ``comment_missing`` replace the general refusals with words of the domain.
    """

    name: str
    title: Any
    sources: frozenset[str]
    target: str
    permission: str | None
    done_title: Any = None
    done: str | None = None
    comment: str = "optional"
    guard: Callable[[Any], str | None] | None = None
    wrong_state: Any = None
    comment_missing: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", frozenset(str(state) for state in self.sources))
        object.__setattr__(self, "target", str(self.target))
        if self.comment not in ("optional", "required"):
            raise ValueError(f"transition {self.name}: comment must be optional or required")

    @property
    def action_suffix(self) -> str:
        return self.done or self.name


class Workflow:
    """The transition table of one model, and the one way to move its objects."""

    def __init__(
        self,
        model: type,
        states: type,
        transitions: Iterable[Transition],
        *,
        action_prefix: str,
        object_title: Any,
        state_attr: str = "status",
    ) -> None:
        self.model = model
        self.states = states
        self.state_attr = state_attr
        self.action_prefix = action_prefix
        self.transitions = {transition.name: transition for transition in transitions}
        known = {str(state) for state in states}
        for transition in self.transitions.values():
            if not transition.sources | {transition.target} <= known:
                raise ValueError(f"{model.__name__} transition {transition.name} names an unknown state")
            if transition.permission is not None and transition.permission not in PERMISSIONS:
                raise ValueError(f"{model.__name__} transition {transition.name}: unknown permission")
        register_object_type_titles({model.__name__: object_title})
        register_state_titles(model.__name__, states.titles())
        register_action_titles({self.action(t): t.done_title or t.title for t in self.transitions.values()})

    def action(self, transition: Transition) -> str:
        """The audit action code of a transition: ``<prefix>.<done>``."""
        return f"{self.action_prefix}.{transition.action_suffix}"

    def state(self, obj: Any) -> str:
        return str(getattr(obj, self.state_attr))

    def transition(self, name: str) -> Transition:
        """The transition called ``name``; a name not in the table is a programming error."""
        try:
            return self.transitions[name]
        except KeyError:
            raise ValueError(f"{self.model.__name__} has no transition {name!r}") from None

    def allowed(self, obj: Any, user: Any) -> list[Transition]:
        """The transitions of the table that ``user`` may take from ``obj``'s state now
        (guards not asked: a button may still be refused with its reason)."""
        state = self.state(obj)
        return [t for t in self.transitions.values()
                if state in t.sources and t.permission is not None and user_can(user, t.permission, obj)]

    def available(self, obj: Any, user: Any) -> list[tuple[Transition, str | None]]:
        """As ``allowed``, each with the guard's refusal (None when it may be taken)."""
        return [(t, t.guard(obj) if t.guard else None) for t in self.allowed(obj, user)]

    def apply(self, obj: Any, name: str, *, actor: Any, comment: str | None = None,
              details: dict | None = None) -> AuditEntry:
        """Take transition ``name`` on ``obj`` for ``actor``, or raise ServiceError.

        The object is locked first and its state read from the database, not from memory:
        two staff members deciding at once are serialised, and the second one is refused
        with the state the first one left.
        """
        transition = self.transition(name)
        lock(f"{self.model.__tablename__}:{obj.id}")
        state_column = getattr(self.model, self.state_attr)
        from_state = str(db.session.scalar(select(state_column).where(self.model.id == obj.id)))
        if from_state not in transition.sources:
            raise ServiceError(
                transition.wrong_state or _("This cannot be done now: it is %(state)s.",
                                            state=self.states(from_state).title), 409
            )
        if transition.permission is not None and not user_can(actor, transition.permission, obj):
            raise ServiceError(_("You may not do this."), 403)
        comment = clean_text(comment, _("Comment"), max_length=COMMENT_MAX_LENGTH)
        if transition.comment == "required" and not comment:
            raise ServiceError(transition.comment_missing or _("Please give a comment: it is required for this step."))
        if transition.guard is not None:
            refusal = transition.guard(obj)
            if refusal:
                raise ServiceError(refusal, 409)
        setattr(obj, self.state_attr, self.states(transition.target))
        entry = record(self.action(transition), obj, from_state=from_state, to_state=transition.target,
                       comment=comment, details=details, actor=actor)
        db.session.flush()
        return entry
