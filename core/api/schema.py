"""OpenAPI generation: token auth, the shared parameters and the error responses of every endpoint."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """An error: ``detail`` says what went wrong."""

    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """A 400: each invalid field or query parameter maps to its messages."""

    detail = serializers.CharField(required=False)

    class Meta:
        ref_name = "ValidationError"


COMMON_PARAMETERS = [
    OpenApiParameter(
        "include_ml_fields",
        OpenApiTypes.BOOL,
        description="Include ML fields (embedding) in the response.",
    ),
    OpenApiParameter(
        "client_id",
        OpenApiTypes.INT,
        description="Your client's id (optional). Another client's id: 403 unless superuser.",
    ),
]


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too)."""

    target_class = "core.api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "API token from create_api_user.",
        }


class ApiAutoSchema(AutoSchema):
    """Adds the shared query parameters and documents the error responses a client can get."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "documents_common_parameters", False):
            parameters += COMMON_PARAMETERS
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
