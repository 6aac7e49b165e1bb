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
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from flask import Flask
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import models_json_schema
from werkzeug.routing import IntegerConverter

from conference_app.core.db import MAX_ID, IdConverter
from conference_app.core.errors import json_response
from conference_app.core.permissions import PERMISSIONS, view_requirement
from conference_app.core.timeutil import BEIJING

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
