"""OpenAPI generation: the shared parameters and the error responses of every endpoint."""

from __future__ import annotations

from django.conf import settings
from django.urls import Resolver404, resolve
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core.api.filters import names_pattern
from core.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.api.idempotency import IDEMPOTENT, KEY, REPLAYED
from core.api.params import ClientParamSerializer, CommonParamsSerializer
from core.fields import EMBEDDING_COLUMN


class ErrorSerializer(serializers.Serializer):
    """An error: ``detail`` says what went wrong; a 409 may name the conflicting ``fields``."""

    detail = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField(), required=False)


class ValidationErrorSerializer(serializers.Serializer):
    """A 400: each invalid field or query parameter maps to its messages."""

    detail = serializers.CharField(required=False)

    class Meta:
        ref_name = "ValidationError"


ID_PARAMETER = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
    OpenApiParameter.PATH,
    description="The item's id.",
)


class ApiAutoSchema(AutoSchema):
    """Adds the shared query parameters (the error responses are added by ``add_error_responses``)."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "documents_common_parameters", False):
            has_ml_fields = self.view.has_ml_fields()
            parameters.append(CommonParamsSerializer if has_ml_fields else ClientParamSerializer)
            if "{id}" in self.path:
                parameters.append(ID_PARAMETER)
            if getattr(self.view, "action", None) in ("list", "retrieve"):
                parameters.append(self._fields_parameter())
        return parameters

    def _fields_parameter(self) -> OpenApiParameter:
        names = self.view.readable_fields(False)
        ml = " (and embedding, with include_ml_fields=true)" if self.view.has_ml_fields() else ""
        return OpenApiParameter(
            "fields",
            {"type": "string", "pattern": names_pattern(names)},
            OpenApiParameter.QUERY,
            description="Only these fields, comma-separated, each at most once (only their "
            f"columns are read): {', '.join(names)}{ml}. The answer then holds those fields only "
            "(the item schema's required list does not apply to it).",
        )


# The error bodies, as components (what ErrorSerializer and ValidationErrorSerializer describe).
ERROR_COMPONENTS = {
    "Error": {
        "type": "object",
        "description": ErrorSerializer.__doc__,
        "properties": {
            "detail": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": ValidationErrorSerializer.__doc__,
        "properties": {"detail": {"type": "string"}},
    },
}
TENANT_PATHS = "/api/"
NOT_TENANT_PATHS = ("/api/schema/", "/api/docs/", "/api/redoc/")


def _error_codes(path: str, method: str) -> dict[str, str]:
    """The errors a client can get from an operation on tenant data, and their bodies."""
    codes = {"401": "Error", "403": "Error", "503": "Error"}
    if method in ("get", "post", "put", "patch") or "{" in path:
        codes["400"] = "ValidationError"
    if "{" in path:
        codes["404"] = "Error"
    if method in ("post", "put", "patch"):
        codes["409"] = "Error"
    return codes


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Document the error responses of every operation on tenant data (a postprocessing hook:
    drf-spectacular's public way to change the generated schema)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in ERROR_COMPONENTS.items():
        schemas.setdefault(name, component)
    for path, item in result.get("paths", {}).items():
        if not path.startswith(TENANT_PATHS) or path.startswith(NOT_TENANT_PATHS):
            continue
        for method, operation in item.items():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if responses is None:
                continue
            for code, component in _error_codes(path, method).items():
                responses.setdefault(
                    code,
                    {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{component}"}
                            }
                        },
                        "description": "",
                    },
                )
    return result


def add_item_links(result: dict, generator, request, public) -> dict:
    """OpenAPI links from "create" to the item operations, and from "delete" back to "get".

    They tell clients (and stateful fuzzers) that ``id`` of a 201 body addresses
    ``/{id}`` and that a deleted item is then gone.
    """
    paths = result.get("paths", {})
    for path, item in paths.items():
        create = item.get("post")
        detail = paths.get(f"{path}{{id}}/")
        if not create or not detail or "201" not in create.get("responses", {}):
            continue
        links = {
            f"{method.title()}Item": {
                "operationId": detail[method]["operationId"],
                "parameters": {"id": "$response.body#/id"},
            }
            for method in ("get", "patch", "delete")
            if method in detail
        }
        create["responses"]["201"]["links"] = links
        if "delete" in detail and "get" in detail:
            detail["delete"]["responses"].setdefault("204", {"description": "Deleted."})
            detail["delete"]["responses"]["204"]["links"] = {
                "GetDeletedItem": {
                    "operationId": detail["get"]["operationId"],
                    "parameters": {"id": "$request.path.id"},
                }
            }
    return result


def strict_request_bodies(result: dict, generator, request, public) -> dict:
    """Request bodies take only their own fields (``additionalProperties: false``): the API
    refuses an unknown field with a 400 naming it (``core.api.serializers.KnownFieldsOnly``)."""
    schemas = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for operation in item.values():
            content = (
                operation.get("requestBody", {}).get("content", {})
                if isinstance(operation, dict)
                else {}
            )
            reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            component = schemas.get(reference.rsplit("/", 1)[-1])
            if component is not None and component.get("type") == "object":
                component["additionalProperties"] = False
                # The rows of a bulk body are held to their fields too.
                for prop in component.get("properties", {}).values():
                    row = schemas.get(prop.get("items", {}).get("$ref", "").rsplit("/", 1)[-1])
                    if row is not None and row.get("type") == "object":
                        row["additionalProperties"] = False
    return result


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed per period to this caller (by token, else address).",
    "X-RateLimit-Remaining": "Requests left now.",
    "X-RateLimit-Reset": "Seconds until the current window ends (and, on a 429, until a request "
    "fits again).",
}
LINK_HEADER = (
    'RFC 8288 links: <url>; rel="first", and "next" (and, paging by offset, "prev") where there '
    "is one."
)


def add_response_headers(result: dict, generator, request, public) -> dict:
    """Document the rate-limit headers on every answer about tenant data and ``Link`` on list
    pages (a postprocessing hook)."""
    for path, item in result.get("paths", {}).items():
        if not path.startswith(TENANT_PATHS) or path.startswith(NOT_TENANT_PATHS):
            continue
        for method, operation in item.items():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not responses:
                continue
            paged = (
                method == "get"
                and "limit"
                in {parameter.get("name") for parameter in operation.get("parameters", [])}
                and "cursor"
                in {parameter.get("name") for parameter in operation.get("parameters", [])}
            )
            for code, response in responses.items():
                headers = response.setdefault("headers", {})
                for name, description in RATE_LIMIT_HEADERS.items():
                    headers[name] = {"schema": {"type": "integer"}, "description": description}
                if paged and code == "200":
                    headers["Link"] = {"schema": {"type": "string"}, "description": LINK_HEADER}
                if method == "get" and code == "200":
                    headers["ETag"] = {"schema": {"type": "string"}, "description": ETAG}
                    if _item(path):
                        headers["Last-Modified"] = {
                            "schema": {"type": "string"},
                            "description": "When the item last changed (HTTP date).",
                        }
            _conditional(path, method, operation)
            if method == "post" and _idempotent(path):
                _idempotency(operation)
    return result


def _idempotent(path: str) -> bool:
    """Whether the POST at ``path`` honours ``Idempotency-Key`` (``core.api.idempotency``)."""
    try:
        callback = resolve(path).func
    except Resolver404:
        return False
    action = getattr(callback, "actions", {}).get("post")
    handler = getattr(getattr(callback, "cls", None), action or "", None)
    return getattr(handler, IDEMPOTENT, False)


def _idempotency(operation: dict) -> None:
    operation.setdefault("parameters", []).append(
        {
            "name": IDEMPOTENCY_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": f"^{KEY.pattern}$"},
            "description": "A key of your choosing (a UUID): sent again with the same request "
            f"within {settings.IDEMPOTENCY_KEY_HOURS} hours, the first answer is replayed and "
            "nothing is written again. Kept for 2xx answers only.",
        }
    )
    responses = operation["responses"]
    for code, response in responses.items():
        if code.startswith("2"):
            response.setdefault("headers", {})[REPLAYED] = {
                "schema": {"type": "string", "enum": ["true"]},
                "description": "Present on a replayed answer.",
            }
    responses.setdefault(
        "422",
        {
            "description": "This Idempotency-Key was sent with another request.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
    )


ETAG = (
    'A strong entity tag: of an item, its version ("<id>.<version>", ".ml" with ML fields); of '
    "any other answer, its body."
)


def _item(path: str) -> bool:
    """Whether ``path`` is one versioned item's (by id, or the caller's own account; tokens
    have no versions)."""
    return path.endswith(("{id}/", "/me/")) and not path.startswith("/api/auth/")


def _conditional(path: str, method: str, operation: dict) -> None:
    """``If-None-Match`` (304) on reads, ``If-Match`` (412) on changes of an item."""
    parameters = operation.setdefault("parameters", [])
    responses = operation["responses"]
    if method == "get" and "200" in responses:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of a copy held: 304, with no body, while it is current.",
            }
        )
        responses.setdefault("304", {"description": "Not modified: the copy held is current."})
    if method in ("put", "patch", "delete") and _item(path):
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "Change only this version (an ETag from a GET, or *); else 412.",
            }
        )
        responses.setdefault(
            "412",
            {
                "description": "The item changed since that version: read it again.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        )


def optional_ml_fields(result: dict, generator, request, public) -> dict:
    """``embedding`` is in a representation only with ``include_ml_fields=true``: a property of
    every item component, never a required one (a postprocessing hook)."""
    for component in result.get("components", {}).get("schemas", {}).values():
        required = component.get("required")
        shown = component.get("properties", {}).get(EMBEDDING_COLUMN, {}).get("readOnly")
        if shown and required and EMBEDDING_COLUMN in required:
            required.remove(EMBEDDING_COLUMN)
    return result
