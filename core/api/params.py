"""Validation of the query parameters every tenant endpoint shares."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rest_framework import exceptions, serializers
from rest_framework.request import Request

from core.api.grammar import QueryBooleanField, QueryIntegerField
from core.models import Client


class ClientParamSerializer(serializers.Serializer):
    """``client_id``, accepted on every tenant endpoint."""

    client_id = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Your own client's id (optional); another client's id needs a superuser.",
    )


class CommonParamsSerializer(ClientParamSerializer):
    """``client_id`` and ``include_ml_fields``, accepted on every tenant endpoint.

    Rows without ML fields ignore the flag, so a client that always sends it keeps working.
    """

    include_ml_fields = QueryBooleanField(
        required=False, default=False, help_text="Include ML fields (embedding) in the response."
    )


class ListParamsSerializer(serializers.Serializer):
    """``include_deleted``, which lists accept: soft-deleted rows too (``active: false``)."""

    include_deleted = QueryBooleanField(required=False, default=False)


@functools.cache
def page_params_serializer(*, default_limit: int, max_limit: int) -> type[serializers.Serializer]:
    """A serializer for ``limit`` (1..max_limit) and ``offset`` (>= 0)."""

    class PageParamsSerializer(serializers.Serializer):
        limit = QueryIntegerField(
            required=False, default=default_limit, min_value=1, max_value=max_limit
        )
        offset = QueryIntegerField(required=False, default=0, min_value=0, max_value=2**63 - 1)

    return PageParamsSerializer


@functools.cache
def _validator(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """One instance per class: building a serializer copies its fields, validating does not."""
    return serializer_class()


@functools.cache
def _defaults(serializer_class: type[serializers.Serializer]) -> dict:
    return dict(_validator(serializer_class).run_validation({}))


def validate_query(request: Request, serializer_class: type[serializers.Serializer]) -> dict:
    """Validate ``request.query_params`` against ``serializer_class``; 400 names the parameter."""
    validator = _validator(serializer_class)
    query = request.query_params
    data = {name: query.get(name) for name in validator.fields if name in query}
    if not data:
        # None given: the defaults, validated once.
        return dict(_defaults(serializer_class))
    return validator.run_validation(data)


@dataclass(frozen=True)
class TenantScope:
    """Whose rows a request sees, and whether ML fields are included."""

    client_id: int
    include_ml_fields: bool


def resolve_scope(request: Request) -> TenantScope:
    """The caller's client; ``client_id`` may name it, or (superusers only) another client."""
    params = validate_query(request, CommonParamsSerializer)
    user = request.user
    client_id = params.get("client_id", user.client_id)
    if client_id != user.client_id:
        if not user.is_superuser:
            raise exceptions.PermissionDenied("client_id: you may only access your own client.")
        if not Client.objects.filter(pk=client_id, active=True).exists():
            raise exceptions.NotFound("client_id: no such client.")
    return TenantScope(client_id=client_id, include_ml_fields=params["include_ml_fields"])


def check_parameter_names(
    request: Request, known: frozenset[str], repeatable: frozenset[str] = frozenset()
) -> None:
    """Unknown parameters, and parameters given twice (which value was meant?), are 400s."""
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise exceptions.ValidationError(
            {name: [f"Unknown query parameter; allowed: {allowed}."] for name in unknown}
        )
    repeated = sorted(
        name
        for name, values in request.query_params.lists()
        if len(values) > 1 and name not in repeatable
    )
    if repeated:
        raise exceptions.ValidationError(
            {name: ["Given more than once; give it once."] for name in repeated}
        )
