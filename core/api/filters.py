"""Filter backends shared by every list endpoint."""

from __future__ import annotations

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
