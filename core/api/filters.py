"""Filter backends shared by every list endpoint."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=a,-b`` over the view's ``ordering_fields``; an unknown field is a 400.

    ``id`` breaks ties so that pages are stable.
    """

    def get_ordering(self, request, queryset, view) -> list[str]:
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return list(view.ordering)
        allowed = set(view.ordering_fields)
        fields = [term.strip() for term in raw.split(",") if term.strip()]
        unknown = [term for term in fields if term.lstrip("-") not in allowed]
        if unknown or not fields:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        f"Unknown ordering field {', '.join(unknown) or '(empty)'}; "
                        f"choose from {', '.join(sorted(allowed))} (prefix - for descending)."
                    ]
                }
            )
        if not any(term.lstrip("-") == "id" for term in fields):
            fields.append("-id" if fields[-1].startswith("-") else "id")
        return fields


class QueryFilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the request names none of the view's filters.

    Building and validating a FilterSet (a Django form) per request costs about as much as the
    page query itself; a list without filter parameters has nothing for it to do.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
