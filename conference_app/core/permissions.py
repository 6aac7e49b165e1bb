"""Named permissions and the one place they are checked.

Every module registers the permissions it adds (``register``); every view declares the
permission it needs (``@requires``) or that it is public (``@public``). A before-request
hook (``enforce_route_permission``) applies the declaration to every request, failing
closed: a view with no declaration answers 403. Object-level checks (a society sees only
its own records, an expert only what is assigned) go through ``user_can(user, name, obj)``,
which asks the permission's ``owner_check`` for roles granted only on their own objects.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from conference_app.core.enums import TitledStrEnum
from conference_app.extensions import db


class Role(TitledStrEnum):
    """What a user is in the system; each maps to a set of permissions."""

    STAFF = "staff", _l("Program staff")  # 市科协学会部: everything administrative
    ANALYST = "analyst", _l("Selection analyst")  # 定量筛选团队: runs the selection
    EXPERT = "expert", _l("Expert")  # 评审专家
    SOCIETY = "society", _l("Society user")  # a society's user, belongs to one organisation


ALL_ROLES = frozenset(Role)


def same_organisation(user: Any, obj: Any) -> bool:
    """The object belongs to the user's organisation."""
    owner = getattr(obj, "owner_organisation_id", None)
    return owner is not None and owner == getattr(user, "organisation_id", None)


def same_organisation_admin(user: Any, obj: Any) -> bool:
    """As ``same_organisation``, and the user administers that organisation."""
    return same_organisation(user, obj) and bool(getattr(user, "is_org_admin", False))


@dataclass(frozen=True)
class Permission:
    """A named right: granted to ``roles`` on everything, to ``owner_roles`` on what
    ``owner_check(user, obj)`` accepts."""

    name: str
    label: Any
    roles: frozenset[Role]
    owner_roles: frozenset[Role] = field(default_factory=frozenset)
    owner_check: Callable[[Any, Any], bool] = same_organisation

    @property
    def route_roles(self) -> frozenset[Role]:
        """Roles that may reach a route guarded by this permission."""
        return self.roles | self.owner_roles


PERMISSIONS: dict[str, Permission] = {}


def register(
    name: str,
    label: Any,
    roles: set[Role] | frozenset[Role],
    owner_roles: set[Role] | frozenset[Role] = frozenset(),
    owner_check: Callable[[Any, Any], bool] = same_organisation,
) -> Permission:
    """Declare a permission once, at import time of the module that owns it."""
    if name in PERMISSIONS:
        raise ValueError(f"permission {name!r} registered twice")
    permission = Permission(name, label, frozenset(roles), frozenset(owner_roles), owner_check)
    PERMISSIONS[name] = permission
    return permission


def user_can(user: Any, name: str, obj: Any = None) -> bool:
    """Whether ``user`` holds permission ``name`` on ``obj``.

    Without ``obj`` the question is whether the user may hold it on some object (a navbar
    link, reaching a route): owner roles then pass. Routes that name an object check it
    with ``@requires(name, load=...)``, never with ``obj=None``.
    """
    permission = PERMISSIONS[name]
    # Anonymous visitors hold nothing. A user object is asked by its role even when its
    # account cannot log in (an applicant proving its password to correct a registration).
    if user is None or getattr(user, "is_anonymous", True):
        return False
    role = Role(user.role)
    if role in permission.roles:
        return True
    if role in permission.owner_roles:
        return obj is None or permission.owner_check(user, obj)
    return False


def ensure_can(name: str, obj: Any = None) -> None:
    """Abort with 403 unless the current user holds ``name`` (on ``obj``)."""
    if not user_can(current_user, name, obj):
        abort(403)


@dataclass(frozen=True)
class ObjectLoad:
    """How a route finds the object its permission is checked on.

    ``model`` is looked up by the URL argument ``arg`` (a 404 when missing); when ``within``
    is ``(parent_arg, attribute)``, the object's ``attribute`` must equal that URL argument
    too (an event of another organisation is a 404 through this organisation's URL). The
    view receives the object as keyword ``keyword`` instead of the id.
    """

    model: type
    arg: str
    keyword: str
    within: tuple[str, str] | None = None


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def requires(
    name: str, *, load: type | None = None, arg: str | None = None, within: tuple[str, str] | None = None
) -> Callable:
    """Mark a view as needing permission ``name``; checked by ``enforce_route_permission``.

    With ``load=Model, arg="thing_id"`` the route loads the object it names and checks the
    permission on it in the same step: a missing object is a 404, someone else's a 403,
    and the view is called with the object (as ``model_name=...``) instead of its id.
    """
    if load is not None and arg is None:
        raise TypeError("requires(load=...) needs arg=, the URL argument holding the id")

    def decorate(view: Callable) -> Callable:
        if load is None:
            view.required_permission = name
            return view
        spec = ObjectLoad(load, arg, _snake_case(load.__name__), within)

        @functools.wraps(view)
        def load_and_check(**kwargs):
            obj = db.session.get(spec.model, kwargs.pop(spec.arg))
            if obj is None:
                abort(404)
            if spec.within is not None:
                parent_arg, attribute = spec.within
                if getattr(obj, attribute) != kwargs.pop(parent_arg):
                    abort(404)
            ensure_can(name, obj)
            return view(**kwargs, **{spec.keyword: obj})

        load_and_check.required_permission = name
        load_and_check.object_load = spec
        return load_and_check

    return decorate


def public(view: Callable) -> Callable:
    """Mark a view as open to anonymous visitors."""
    view.is_public = True
    return view


def view_object_load(view: Callable) -> ObjectLoad | None:
    """The ``ObjectLoad`` a view declared with ``@requires(..., load=...)``, or None."""
    return getattr(view, "object_load", None)


def view_requirement(view: Callable) -> tuple[bool, str | None]:
    """(is_public, permission name) declared on a view function, looking through wrappers."""
    while view is not None:
        if getattr(view, "is_public", False):
            return True, None
        if getattr(view, "required_permission", None):
            return False, view.required_permission
        view = getattr(view, "__wrapped__", None)
    return False, None


def enforce_route_permission():
    """Before every request: public, or logged in with a role that may reach the route."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    is_public, name = view_requirement(view)
    if is_public:
        return None
    if not current_user.is_authenticated:
        from conference_app.extensions import login_manager

        return login_manager.unauthorized()
    if name is None:
        current_app.logger.error("view %s declares no permission: denied", request.endpoint)
        abort(403)
    if Role(current_user.role) not in PERMISSIONS[name].route_roles:
        abort(403)
    return None



register("core.home", _l("Open the home page"), ALL_ROLES)
