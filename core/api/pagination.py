"""The list envelope: ``{"<resource>": [...], "count", "total_count", "offset", "limit", ...}``."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.api.params import page_params_serializer, validate_query


class EnvelopePagination(BasePagination):
    """Limit/offset pages in the original service's envelope; bad values are a 400, never clamped.

    Subclasses (made per viewset) set ``list_key``, ``default_limit``, ``max_limit``,
    ``ml_fields`` (whether rows have ML fields, hence ``ml_fields_included``) and
    ``extra_schema`` (the schema of the keys the view's ``list_envelope_extra()`` adds).
    """

    list_key = "results"
    default_limit = 100
    max_limit = 1000
    ml_fields = True
    extra_schema: dict = {}

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        if not queryset.ordered:
            raise ImproperlyConfigured(f"{view.__class__.__name__} lists an unordered queryset")
        params = validate_query(
            request,
            page_params_serializer(default_limit=self.default_limit, max_limit=self.max_limit),
        )
        self.offset, self.limit = params["offset"], params["limit"]
        self.extra = view.list_envelope_extra()
        if self.ml_fields:
            self.extra["ml_fields_included"] = view.scope.include_ml_fields
        page = list(queryset[self.offset : self.offset + self.limit])
        if len(page) < self.limit and (page or self.offset == 0):
            # A short page tells the total without a COUNT.
            self.total_count = self.offset + len(page)
        else:
            self.total_count = queryset.count()
        return page

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                self.list_key: data,
                "count": len(data),
                "total_count": self.total_count,
                "offset": self.offset,
                "limit": self.limit,
                **self.extra,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        extra = dict(self.extra_schema)
        if self.ml_fields:
            extra["ml_fields_included"] = {"type": "boolean"}
        return {
            "type": "object",
            "required": [self.list_key, "count", "total_count", "offset", "limit", *extra],
            "properties": {
                self.list_key: schema,
                "count": {"type": "integer", "description": "Items in this page."},
                "total_count": {"type": "integer", "description": "Items in all pages."},
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
                **extra,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Page size, 1..{self.max_limit}.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_limit,
                    "default": self.default_limit,
                },
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": "Items to skip.",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
        ]
