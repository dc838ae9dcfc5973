"""Filter backends shared by every list endpoint."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter

from core.api.grammar import parse_boolean, parse_integer

MAX_ID = 2**63 - 1
ORDERING_TERM = re.compile(r"-?(?P<field>[a-z_]+)")


def _form_value(parse, value: str | None):
    """``parse(value)`` for a form field (None stays None: the parameter was not given); what it
    refuses is the field's error."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as error:
        # As params: django-filter formats the message with them (a "%" in it must stay one).
        raise forms.ValidationError(
            "%(problem)s", code="invalid", params={"problem": str(error)}
        ) from None


class StrictIntegerFormField(forms.IntegerField):
    """An integer in the query grammar (``core.api.grammar``); empty is an error, not "no
    filter" (omit the parameter)."""

    def to_python(self, value: str | None) -> int | None:
        return _form_value(parse_integer, value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id filter: a whole number within the id range (else 400)."""

    field_class = StrictIntegerFormField

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class StrictBooleanFormField(forms.Field):
    """``true``/``false`` (or 1/0, yes/no, on/off); anything else, empty included, is an error."""

    def to_python(self, value: str | None) -> bool | None:
        return _form_value(parse_boolean, value)


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean filter that rejects ``?acknowledged=maybe`` (django-filter's own ignores it)."""

    field_class = StrictBooleanFormField

    def __init__(self, *args, **kwargs) -> None:
        # The default widget maps unknown strings to None before the field sees them.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class StrictChoiceFormField(forms.ChoiceField):
    """One of the choices; an empty value is an error, not "no filter" (omit the parameter)."""

    def to_python(self, value: str | None) -> str | None:
        if value is None:
            return None
        if value == "":
            raise forms.ValidationError(
                f"Expected one of {', '.join(str(key) for key, _ in self.choices)}; omit the "
                "parameter for no filter.",
                code="invalid_choice",
            )
        return super().to_python(value)


class StrictChoiceFilter(django_filters.ChoiceFilter):
    """A choice filter that refuses values outside its choices, the empty one included."""

    field_class = StrictChoiceFormField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


def text_filter(max_length: int, **kwargs) -> django_filters.CharFilter:
    """A text filter whose documented and enforced length limit is ``max_length``."""
    return extend_schema_field({"type": "string", "maxLength": max_length})(
        django_filters.CharFilter(max_length=max_length, **kwargs)
    )


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=a,-b`` over the view's ``ordering_fields``; an unknown field is a 400.

    ``id`` breaks ties so that pages are stable.
    """

    def get_ordering(self, request, queryset, view) -> list[str]:
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return list(view.ordering)
        allowed = set(view.ordering_fields)
        terms = raw.split(",")
        # Each term: an allowed field, with one optional "-" (no "--key", no "+key", no blanks).
        fields = [ORDERING_TERM.fullmatch(term) for term in terms]
        wrong = [term for term, match in zip(terms, fields, strict=True)
                 if match is None or match["field"] not in allowed]  # fmt: skip
        names = [match["field"] for match in fields if match is not None]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if wrong or repeated:
            problem = (
                f"Unknown ordering field {', '.join(repr(term) for term in wrong)}"
                if wrong
                else f"Each field may appear once ({', '.join(repeated)} repeated)"
            )
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        f"{problem}; choose from {', '.join(sorted(allowed))}, comma-separated, "
                        "prefix - for descending."
                    ]
                }
            )
        ordering = [match[0] for match in fields]
        if "id" not in names:
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view) -> list[dict]:
        if getattr(view, "action", "list") != "list":
            return []  # only lists are ordered (a similarity search is ordered by distance)
        names = "|".join(sorted(view.ordering_fields))
        # The lookahead refuses a field named twice (as the filter does).
        once = rf"(?!.*(?:^|,)-?({names})(?:,.*)?,-?\1(?:,|$))"
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    "Comma-separated fields, each at most once, - for descending: "
                    f"{', '.join(sorted(view.ordering_fields))}."
                ),
                "schema": {"type": "string", "pattern": f"^{once}-?({names})(,-?({names}))*$"},
            }
        ]


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
