"""The JSON API's operations, declared from pydantic models, and the OpenAPI document built
from those declarations.

An API view says what it takes and what it answers with ``@api_operation(summary=...,
request=Model, query=Model, responses={200: Model, 409: ErrorBody})``. ``openapi_document(app)``
walks the URL map under ``/api/v1``: each declared rule becomes a path (``<id:event_id>`` an
integer ``{event_id}``), each method an operation with its JSON schemas (pydantic's, under
``#/components/schemas``), its security (the view's bearer-token scope and permission) and
the error answers that follow from it (400 with a body or query, 401 and 403 with a token,
404 with an id, 413 with a body, 429 always). Views build their answers from the same response
models (``model_response``), so the document and the answers cannot drift apart.

Every domain's API views sit on a blueprint of ``api_blueprint(name, __name__)`` and read
the client's body and query with the readers at the end (``text_body``, ``page_argument``
...), each refusing bad input with a 400 ServiceError naming it.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from flask import Blueprint, Flask, request
from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WithJsonSchema
from pydantic.json_schema import models_json_schema
from werkzeug.routing import IntegerConverter

from conference_app.core.db import MAX_ID, MAX_PAGE, IdConverter
from conference_app.core.errors import json_response
from conference_app.core.permissions import PERMISSIONS, view_requirement
from conference_app.core.services import ServiceError
from conference_app.core.text import strip_nul
from conference_app.core.timeutil import BEIJING
from conference_app.extensions import csrf, login_manager

API_PREFIX = "/api/v1"
OPENAPI_VERSION = "3.1.0"
SCHEMA_REF = "#/components/schemas/{model}"
BEARER_SCHEME = "bearer"


def beijing_iso(moment: datetime) -> str:
    """``2026-10-15T14:00:00+08:00``: Beijing time with its offset, to the second."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


# A datetime answered in Beijing time with the offset, to the second.
BeijingDateTime = Annotated[
    datetime,
    PlainSerializer(beijing_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-10-15T14:00:00+08:00"]}),
]


def _unicode_text(value: str) -> str:
    value.encode()  # a lone surrogate (JSON's escapes can spell one) raises: no database stores it
    return value


# Text of a request body: a JSON string that is Unicode text.
Text = Annotated[str, AfterValidator(_unicode_text)]


class ErrorDetail(BaseModel):
    status: int = Field(ge=400, le=599, description="The HTTP status, as in the status line.")
    message: str = Field(description="What went wrong, for people (Chinese, or the token user's language).")


class ErrorBody(BaseModel):
    """Every error of the API, of every status."""

    error: ErrorDetail


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document (this one)."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


# The answers of errors: their component name, their description and the headers they carry.
_HEADER_TEXT = {"schema": {"type": "string"}}
ERROR_RESPONSES: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: ("BadRequest", "The body is not a JSON object of the documented members, or a member or a query "
                        "parameter is missing or malformed.", {}),
    401: ("Unauthorized", "No bearer token, or a malformed, unknown or revoked one, or one whose account may not "
                          "log in.",
          {"WWW-Authenticate": {"description": 'Bearer realm="api" (with error="invalid_token" when one was sent)',
                                **_HEADER_TEXT}}),
    403: ("Forbidden", "The token's scope does not cover this operation, or its user may not do it (on this "
                       "record).", {}),
    404: ("NotFound", "No record with this id, or none the caller may see.", {}),
    405: ("MethodNotAllowed", "The address does not take this method (any address of the API).",
          {"Allow": {"description": "The methods the address takes.", **_HEADER_TEXT}}),
    409: ("Conflict", "The record's state does not allow this now.", {}),
    413: ("PayloadTooLarge", "The body is larger than the API takes (16 KiB).", {}),
    429: ("TooManyRequests", "This client address made too many requests to the API.",
          {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}),
}
SUCCESS_TEXTS = {200: "OK", 201: "Created", 202: "Accepted"}


@dataclass(frozen=True)
class Operation:
    """What an API view takes and answers, for the document."""

    summary: str
    responses: Mapping[int, type[BaseModel]]
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None

    def models(self) -> list[tuple[type[BaseModel], str]]:
        """(model, JSON-schema mode) of every schema the operation names."""
        found = [(model, "serialization") for model in self.responses.values()]
        found += [(model, "validation") for model in (self.request, self.query) if model is not None]
        return found


def api_operation(*, summary: str, responses: Mapping[int, type[BaseModel]], request: type[BaseModel] | None = None,
                  query: type[BaseModel] | None = None, tags: tuple[str, ...] | list[str] = (),
                  description: str | None = None) -> Callable:
    """Declare an API view's operation for the OpenAPI document (see the module's docstring).

    ``responses`` maps each status the view itself answers to its model (``ErrorBody`` for an
    error such as a 409); the errors implied by the route, its body, query and token are added.
    """

    def decorate(view: Callable) -> Callable:
        view.api_operation = Operation(summary, dict(responses), request, query, tuple(tags),
                                       inspect.cleandoc(description) if description else None)
        return view

    return decorate


def view_operation(view: Callable) -> Operation | None:
    """The operation a view declared with ``@api_operation``, looking through wrappers; None if none."""
    while view is not None:
        operation = getattr(view, "api_operation", None)
        if operation is not None:
            return operation
        view = getattr(view, "__wrapped__", None)
    return None


def model_response(answer: BaseModel, status: int = 200):
    """The JSON response of a response model's instance."""
    return json_response(answer.model_dump(mode="json"), status)


# --- the document ---------------------------------------------------------------------------------

_RULE_ARGUMENT = re.compile(r"<(?:[A-Za-z_]\w*(?:\([^)]*\))?:)?([A-Za-z_]\w*)>")


def openapi_path(rule: str) -> str:
    """``/api/v1/events/<id:event_id>`` as ``/api/v1/events/{event_id}``."""
    return _RULE_ARGUMENT.sub(r"{\1}", rule)


def _path_parameter(name: str, converter) -> dict[str, Any]:
    if isinstance(converter, IdConverter):
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        description = "A record's id: a whole number from 1 to 2147483647 (anything else is a 404)."
    elif isinstance(converter, IntegerConverter):
        schema, description = {"type": "integer"}, None
    else:
        schema, description = {"type": "string"}, None
    parameter = {"name": name, "in": "path", "required": True, "schema": schema}
    return parameter | ({"description": description} if description else {})


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter's schema without its ``null`` choice: leaving it out is how it is
    not given (a query string has no null)."""
    schema = {key: value for key, value in schema.items() if not (key == "default" and value is None)}
    choices = schema.pop("anyOf", None)
    if choices is None:
        return schema
    kept = [choice for choice in choices if choice != {"type": "null"}]
    return schema | (kept[0] if len(kept) == 1 else {"anyOf": kept})


def _query_parameters(component: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(component.get("required", ()))
    parameters = []
    for name, schema in component.get("properties", {}).items():
        description = schema.get("description")
        schema = _without_null({key: value for key, value in schema.items() if key not in ("title", "description")})
        parameter = {"name": name, "in": "query", "required": name in required, "schema": schema}
        parameters.append(parameter | ({"description": description} if description else {}))
    return parameters


def _security_text(scope: str | None, permission: str | None) -> str:
    parts = []
    if scope is not None:
        parts.append(f"Needs a bearer token of scope `{scope}`.")
    if permission is not None and permission in PERMISSIONS:
        roles = ", ".join(sorted(role.value for role in PERMISSIONS[permission].roles | PERMISSIONS[permission].owner_roles))
        parts.append(f"Its user needs the permission `{permission}` (roles: {roles}).")
    return " ".join(parts)


def _operation_object(endpoint: str, rule, operation: Operation, scope: str | None, permission: str | None,
                      refs: dict, components: dict) -> dict[str, Any]:
    statuses = {429}
    if rule.arguments:
        statuses.add(404)
    if operation.request is not None:
        statuses |= {400, 413}
    if operation.query is not None:
        statuses.add(400)
    if scope is not None or permission is not None:
        statuses |= {401, 403}
    statuses |= {status for status in operation.responses if status >= 400}
    responses: dict[str, Any] = {}
    for status, model in sorted(operation.responses.items()):
        if status < 400:
            responses[str(status)] = {"description": SUCCESS_TEXTS.get(status, "Done"),
                                      "content": {"application/json": {"schema": refs[model, "serialization"]}}}
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    description = "\n\n".join(text for text in (operation.description, _security_text(scope, permission)) if text)
    found: dict[str, Any] = {"operationId": endpoint, "summary": operation.summary, "tags": list(operation.tags)}
    if description:
        found["description"] = description
    parameters = [_path_parameter(name, converter) for name, converter in rule._converters.items()]
    if operation.query is not None:
        parameters += _query_parameters(components[_ref_name(refs[operation.query, "validation"])])
    if parameters:
        found["parameters"] = parameters
    if operation.request is not None:
        found["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[operation.request, "validation"]}}}
    found["responses"] = responses
    if scope is not None:
        found["security"] = [{BEARER_SCHEME: []}]
        found["x-token-scope"] = scope
    if permission is not None:
        found["x-permission"] = permission
    return found


def _ref_name(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[1]


def _error_components() -> dict[str, Any]:
    error_ref = {"$ref": SCHEMA_REF.format(model="ErrorBody")}
    responses = {}
    for name, description, headers in ERROR_RESPONSES.values():
        responses[name] = {"description": description, "content": {"application/json": {"schema": error_ref}}}
        if headers:
            responses[name]["headers"] = headers
    return responses


def openapi_document(app: Flask, *, scope_of: Callable[[Callable], str | None] = lambda view: None,
                     description: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API: every rule under ``/api/v1`` whose view declares its
    operation; ``scope_of(view)`` names the bearer-token scope a view takes (None: public)."""
    declared = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        operation = view_operation(view)
        if operation is not None:
            declared.append((rule, view, operation))
    wanted = {(ErrorBody, "serialization")}
    for _rule, _view, operation in declared:
        wanted.update(operation.models())
    refs, definitions = models_json_schema(sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1])),
                                           ref_template=SCHEMA_REF)
    schemas = definitions.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for rule, view, operation in declared:
        scope = scope_of(view)
        is_public, permission = view_requirement(view)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = _operation_object(
                rule.endpoint, rule, operation, None if scope is None else str(scope),
                None if is_public else permission, refs, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Capital Academic Platform API", "version": "1", "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": _error_components(),
            "securitySchemes": {BEARER_SCHEME: {
                "type": "http", "scheme": "bearer", "bearerFormat": "cap_ and 43 URL-safe characters",
                "description": "A per-user API token: `Authorization: Bearer cap_...`. It acts with its user's "
                               "permissions, within its scope; the login cookie is never read.",
            }},
        },
    }


# --- the API's blueprints and what they read from the client -----------------------------------

# A request body is one small JSON object: anything bigger is refused before it is read.
MAX_BODY_BYTES = 16 * 1024
FLAG_VALUES = {"1": True, "true": True, "0": False, "false": False, "": False}

Body = TypeVar("Body", bound=BaseModel)


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of the API under ``/api/v1``: no CSRF and no login page (it reads bearer
    tokens, never cookies: a request without a valid token is a JSON 401), and bodies larger
    than MAX_BODY_BYTES refused before they are read."""
    blueprint = Blueprint(name, import_name, url_prefix=API_PREFIX)
    csrf.exempt(blueprint)
    login_manager.blueprint_login_views[name] = None

    @blueprint.before_request
    def limit_body_size():
        request.max_content_length = MAX_BODY_BYTES

    return blueprint


class TextMembers(BaseModel):
    """A body of text members: each a JSON string or null; members not listed are ignored."""

    model_config = ConfigDict(strict=True)






def json_object() -> dict[str, Any]:
    """The request body as a JSON object; a 400 ServiceError for anything else."""
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        body = None
    if not isinstance(body, dict):
        raise ServiceError(_("The request body must be a JSON object, for example {\"code\": \"...\"}."))
    return body


def text_body(model: type[Body]) -> Body:
    """The body's members of ``model`` (a ``TextMembers``), each text or null; the first that is
    not is a 400 naming it."""
    try:
        return model.model_validate(json_object())
    except ValidationError as error:
        raise ServiceError(_("The field %(field)s must be text.", field=error.errors()[0]["loc"][0])) from None


def flag_argument(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value not in FLAG_VALUES:
        raise ServiceError(_("The parameter %(name)s must be 1 or 0.", name=name))
    return FLAG_VALUES[value]


def page_argument() -> int:
    value = request.args.get("page", "1").strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ServiceError(_("The parameter page must be a whole number from 1 to %(max)d.", max=MAX_PAGE))
    return int(value)


def text_argument(name: str, max_length: int) -> str | None:
    """A text parameter (None when absent or empty); longer than ``max_length`` is a 400."""
    value = strip_nul(request.args.get(name, "")).strip()
    if len(value) > max_length:
        raise ServiceError(_("The parameter %(name)s must be at most %(max)d characters.", name=name, max=max_length))
    return value or None


def choice_argument(name: str, choices: Iterable[str]) -> str | None:
    """One of ``choices`` (None when absent or empty); anything else is a 400 listing them."""
    value = request.args.get(name, "").strip()
    choices = list(choices)
    if value and value not in choices:
        raise ServiceError(_("The parameter %(name)s must be one of: %(choices)s.", name=name,
                             choices=", ".join(choices)))
    return value or None
