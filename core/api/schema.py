"""OpenAPI generation: the shared parameters and the error responses of every endpoint."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core.api.params import ClientParamSerializer, CommonParamsSerializer


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
    """Adds the shared query parameters and documents the error responses a client can get."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "documents_common_parameters", False):
            has_ml_fields = self.view.has_ml_fields()
            parameters.append(CommonParamsSerializer if has_ml_fields else ClientParamSerializer)
            if "{id}" in self.path:
                parameters.append(ID_PARAMETER)
        return parameters

    def _get_response_bodies(self, direction="response") -> dict:
        responses = super()._get_response_bodies(direction)
        if not getattr(self.view, "documents_common_parameters", False):
            return responses
        errors = {
            "401": ErrorSerializer,
            "403": ErrorSerializer,
            "503": ErrorSerializer,
        }
        if self.method in ("GET", "POST", "PUT", "PATCH") or "{" in self.path:
            errors["400"] = ValidationErrorSerializer
        if "{" in self.path:
            errors["404"] = ErrorSerializer
        if self.method in ("POST", "PUT", "PATCH"):
            errors["409"] = ErrorSerializer
        for code, serializer in errors.items():
            responses.setdefault(
                code, self._get_response_for_code(serializer, code, direction=direction)
            )
        return responses


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
