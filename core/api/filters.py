"""Filters and filter backends shared by every list endpoint.

The grammar of a filter parameter, for every list:

- ``name=value``: rows whose column equals the value. Filters of the ``ValuesFilter`` kind take
  the parameter repeated, meaning "any of" (``status_name=Done&status_name=To Do``); any other
  parameter given twice is a 400 (``TenantReadOnlyViewSet``);
- ``name__isnull=true|false``: rows without (with) a value;
- ``column_after=T`` / ``column_before=T``: ``column >= T`` / ``column < T``, a half-open range
  (consecutive ranges never share a row), ``T`` in ``core.api.grammar``'s timestamp grammar.

An empty value is a 400 (omit the parameter for no filter), as is any value outside the grammar.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter

from core.api.grammar import TIMESTAMP_HINT, parse_boolean, parse_integer, parse_timestamp

MAX_ID = 2**63 - 1
# Values one repeated filter parameter may carry (a longer list belongs in several requests).
MAX_VALUES = 100
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


class ValuesFormField(forms.Field):
    """The values of a repeated parameter, each cleaned by ``item``; duplicates dropped."""

    widget = forms.MultipleHiddenInput  # reads every value of the parameter (getlist)

    def __init__(self, *, item: forms.Field, **kwargs) -> None:
        self.item = item
        super().__init__(**kwargs)

    def to_python(self, value) -> list | None:
        if not value:
            return None
        if len(value) > MAX_VALUES:
            raise forms.ValidationError(
                f"At most {MAX_VALUES} values; got {len(value)}.", code="max_values"
            )
        cleaned: dict = {}
        for raw in value:
            if raw == "":
                raise forms.ValidationError(
                    "An empty value; omit the parameter for no filter.", code="required"
                )
            cleaned[self.item.clean(raw)] = None
        return list(cleaned)


class ValuesFilter(django_filters.MultipleChoiceFilter):
    """Rows whose column equals one of the values: ``?name=a&name=b``.

    A multiple-choice filter to django-filter and drf-spectacular (the schema documents an array,
    exploded as repeated parameters); the values are free within ``item``'s grammar.
    """

    field_class = ValuesFormField

    def __init__(self, *, item: forms.Field, prepare=None, **kwargs) -> None:
        self.prepare = prepare
        kwargs.setdefault("distinct", False)
        super().__init__(item=item, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        if self.prepare is not None:
            value = [self.prepare(item) for item in value]
        if len(value) == 1:
            return queryset.filter(**{self.field_name: value[0]})
        return queryset.filter(**{f"{self.field_name}__in": value})


VALUES_HELP = f"Repeat the parameter for any of several values (at most {MAX_VALUES})."


def _values(item: forms.Field, item_schema: dict, kwargs: dict) -> ValuesFilter:
    described = {**item_schema, "description": kwargs.pop("help_text", VALUES_HELP)}
    return extend_schema_field(described)(ValuesFilter(item=item, **kwargs))


def values_filter(max_length: int, **kwargs) -> ValuesFilter:
    """A text filter of exact values (repeat it for "any of"), each at most ``max_length``."""
    schema = {"type": "string", "minLength": 1, "maxLength": max_length}
    # Values are compared as given: not stripped (a value of blanks is a value).
    return _values(forms.CharField(max_length=max_length, strip=False), schema, kwargs)


def choice_values_filter(choices, **kwargs) -> ValuesFilter:
    """One or more of ``choices`` (repeat it for "any of")."""
    schema = {"type": "string", "enum": [key for key, _ in choices]}
    return _values(StrictChoiceFormField(choices=choices), schema, kwargs)


def integer_values_filter(minimum: int, maximum: int, **kwargs) -> ValuesFilter:
    """Whole numbers within ``minimum..maximum`` (repeat it for "any of")."""
    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return _values(StrictIntegerFormField(min_value=minimum, max_value=maximum), schema, kwargs)


def null_filter(field_name: str) -> StrictBooleanFilter:
    """``<name>__isnull=true``: rows without a value there (false: rows with one)."""
    return StrictBooleanFilter(
        field_name=field_name,
        lookup_expr="isnull",
        help_text=f"true: rows whose {field_name} is null; false: rows with a {field_name}.",
    )


class TimestampFormField(forms.Field):
    """A time in ``core.api.grammar``'s timestamp grammar (empty: an error)."""

    def to_python(self, value: str | None):
        return _form_value(parse_timestamp, value)


class TimestampFilter(django_filters.Filter):
    """One bound of a time range: ``after`` (the column >= the time) or ``before`` (<)."""

    field_class = TimestampFormField

    def __init__(self, field_name: str, bound: str, **kwargs) -> None:
        lookup = {"after": "gte", "before": "lt"}[bound]
        relation = "at or after" if bound == "after" else "before"
        super().__init__(field_name=field_name, lookup_expr=lookup, **kwargs)
        extend_schema_field(
            {
                "type": "string",
                "format": "date-time",
                "description": f"Rows whose {field_name} is {relation} this time: "
                f"{TIMESTAMP_HINT}.",
            }
        )(self)


class TenantFilterSet(django_filters.FilterSet):
    """The filters of every list: ranges of the row's own times. A resource's filter set adds its
    columns (and the ranges of its source times)."""

    created_at_after = TimestampFilter("created_at", "after")
    created_at_before = TimestampFilter("created_at", "before")
    last_updated_at_after = TimestampFilter("last_updated_at", "after")
    last_updated_at_before = TimestampFilter("last_updated_at", "before")


def multi_valued(filterset_class) -> frozenset[str]:
    """The parameters of ``filterset_class`` that may be repeated ("any of")."""
    if filterset_class is None:
        return frozenset()
    return frozenset(
        name
        for name, declared in filterset_class.base_filters.items()
        if isinstance(declared, ValuesFilter)
    )


def text_filter(max_length: int, **kwargs) -> django_filters.CharFilter:
    """A text filter whose documented and enforced length limit is ``max_length``."""
    return extend_schema_field({"type": "string", "maxLength": max_length})(
        django_filters.CharFilter(max_length=max_length, **kwargs)
    )


def names_refused(
    parameter: str, noun: str, wrong: list[str], names: list[str], choices: str
) -> exceptions.ValidationError | None:
    """The 400 for a comma-separated list of names (``ordering``, ``fields``) that has ``wrong``
    terms or names one twice; None when it has neither."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not wrong and not repeated:
        return None
    problem = (
        f"Unknown {noun} {', '.join(repr(term) for term in wrong)}"
        if wrong
        else f"Each field may appear once ({', '.join(repeated)} repeated)"
    )
    return exceptions.ValidationError({parameter: [f"{problem}; choose from {choices}."]})


def names_pattern(names, *, sign: str = "") -> str:
    """A regular expression of ``names``, comma-separated, each at most once (``sign``: what may
    precede one, ``-?`` for an ordering)."""
    alternatives = "|".join(names)
    # The lookahead refuses a name given twice (as the parameter's check does).
    once = rf"(?!.*(?:^|,){sign}({alternatives})(?:,.*)?,{sign}\1(?:,|$))"
    return f"^{once}{sign}({alternatives})(,{sign}({alternatives}))*$"


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
        choices = f"{', '.join(sorted(allowed))}, comma-separated, prefix - for descending"
        refused = names_refused(self.ordering_param, "ordering field", wrong, names, choices)
        if refused is not None:
            raise refused
        ordering = [match[0] for match in fields]
        if "id" not in names:
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering

    def get_schema_operation_parameters(self, view) -> list[dict]:
        if getattr(view, "action", "list") != "list":
            return []  # only lists are ordered (a similarity search is ordered by distance)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    "Comma-separated fields, each at most once, - for descending: "
                    f"{', '.join(sorted(view.ordering_fields))}."
                ),
                "schema": {
                    "type": "string",
                    "pattern": names_pattern(sorted(view.ordering_fields), sign="-?"),
                },
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
