"""The list fast path: a page serialized straight from database rows, with the serializer's output.

A ModelSerializer spends most of a list's time in per-field calls (``get_attribute``,
``to_representation``) on model instances: about 3,000 calls for 100 issues. Most fields are
plain columns whose database value already is the output value (strings, numbers, booleans,
UTC datetimes that the renderer writes in DRF's ISO 8601 form). ``row_plan()`` works out, once
per serializer class, which column feeds each output field and which few values still need a
conversion; ``RowPlan.fetch()`` then runs the page query (``select_sql()``: the columns, with
only WHERE and ORDER BY compiled by Django; results in binary format) and builds the dicts.

A serializer opts in with ``list_from_rows = True``: a contract, checked at start-up
(``plan_problems()``, run by ``core.checks`` for every API viewset). It may only have plain
columns (no property, method field, nested serializer, or column with a database converter such
as JSON) and may not redefine what makes output depend on the caller (``to_representation``,
``get_fields``, ``__init__``...): a role hiding a field would be honoured by retrieve and
bypassed by lists. A serializer that has not opted in keeps the ordinary serializer path.
``core/tests/test_rows.py`` checks both paths give the same JSON.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections, models
from pgvector import Vector
from pgvector.django import VectorField
from rest_framework import ISO_8601, fields, relations, serializers

from core.api.serializers import EmbeddingField
from core.db.binary_reads import binary_cursor
from core.db.query_shape import SqlExpression, select_sql

Converter = Callable[[object], object]


class Fetched(NamedTuple):
    """A window of a list: its items, the ordering keys of each, and the list's total if known."""

    items: list
    keys: list[tuple]
    total: int | None = None


# Serializer fields whose output is the database value itself.
_IDENTITY = {
    fields.CharField.to_representation,
    fields.IntegerField.to_representation,
    fields.FloatField.to_representation,
    fields.BooleanField.to_representation,
}


def embedding_values(value: object) -> np.ndarray:
    """A stored vector as float64 numbers: the JSON text ``EmbeddingField`` gives (``tolist()``)."""
    if isinstance(value, bytes | memoryview):
        value = Vector.from_binary(bytes(value)).to_numpy()
    elif isinstance(value, str):
        value = Vector.from_text(value).to_numpy()
    return np.asarray(value, dtype=np.float64)


def _utc_iso_datetimes(field: fields.DateTimeField) -> bool:
    """True when DRF would print the (UTC) database datetime exactly as the renderer does."""
    output_format = getattr(field, "format", fields.api_settings.DATETIME_FORMAT)
    return (
        output_format is not None
        and output_format.lower() == ISO_8601
        and settings.USE_TZ
        and settings.TIME_ZONE == "UTC"
        and not hasattr(field, "timezone")
    )


def _converter(field: fields.Field) -> Converter | bool | None:
    """None: the value is the output; a callable: convert it; False: not a plain value."""
    if isinstance(field, EmbeddingField):
        return embedding_values
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return None if field.pk_field is None else False
    if isinstance(field, relations.RelatedField | serializers.BaseSerializer):
        return False
    if isinstance(field, fields.ListField):
        return None if _converter(field.child) is None else False
    if isinstance(field, fields.DateTimeField) and _utc_iso_datetimes(field):
        return None
    if isinstance(field, fields.BigIntegerField) and not getattr(
        field, "coerce_to_string", fields.api_settings.COERCE_BIGINT_TO_STRING
    ):
        return None
    if type(field).to_representation in _IDENTITY:
        return None
    if isinstance(field, fields.SerializerMethodField | fields.HiddenField):
        return False
    return field.to_representation


def _column(model: type[models.Model], field: fields.Field) -> str | None:
    """The column (attname) an output field reads, or None when it is not a plain column."""
    if field.source == "*" or len(field.source_attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if not model_field.concrete or model_field.many_to_many:
        return None
    # Values with a database converter (JSON, ...) arrive differently in binary format.
    if hasattr(model_field, "from_db_value") and not isinstance(model_field, VectorField):
        return None
    return model_field.attname


@dataclass(frozen=True)
class RowPlan:
    """How to build a serializer's output from one ``values_list`` row."""

    names: tuple[str, ...]
    columns: tuple[str, ...]
    converters: tuple[tuple[int, Converter], ...]

    def items(self, rows: Sequence[Sequence], *, trim: bool = True) -> list[dict]:
        """The output of rows that begin with the plan's ``columns`` (``trim``: and go on)."""
        names = self.names
        width = len(names)
        items = []
        for row in rows:
            item = dict(zip(names, row[:width] if trim else row, strict=True))
            for position, convert in self.converters:
                value = row[position]
                if value is not None:
                    item[names[position]] = convert(value)
            items.append(item)
        return items

    def reading(self, attnames: Sequence[str]) -> tuple[str, ...]:
        """The plan's columns, then those of ``attnames`` it does not read already."""
        return self.columns + tuple(name for name in attnames if name not in self.columns)

    def only(self, names: tuple[str, ...]) -> RowPlan:
        """The plan of some of the fields (``?fields=``): only their columns are read."""
        return _narrowed(self, names)

    def fetch(
        self,
        queryset: models.QuerySet,
        key_fields: Sequence[str] = (),
        total: SqlExpression | None = None,
    ) -> Fetched:
        """The rows of ``queryset`` as output dicts, and the values of ``key_fields`` of each.

        ``total`` (SQL and its parameters) is selected with the rows, in the same snapshot,
        and returned when there are rows to carry it.
        """
        meta = queryset.model._meta
        key_columns = [meta.get_field(name).attname for name in key_fields]
        columns = self.reading(key_columns)
        alias = queryset.db
        try:
            sql, params = select_sql(queryset, columns, alias, extra=total)
        except EmptyResultSet:
            return Fetched([], [])
        with binary_cursor(connections[alias]) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        items = self.items(rows, trim=len(columns) != len(self.names) or total is not None)
        positions = [columns.index(column) for column in key_columns]
        keys = [tuple(row[p] for p in positions) for row in rows] if positions else []
        found_total = rows[0][len(columns)] if total is not None and rows else None
        return Fetched(items, keys, found_total)


@functools.lru_cache(maxsize=1024)
def _narrowed(plan: RowPlan, names: tuple[str, ...]) -> RowPlan:
    positions = [plan.names.index(name) for name in names]
    converters = dict(plan.converters)
    return RowPlan(
        names,
        tuple(plan.columns[position] for position in positions),
        tuple(
            (index, converters[position])
            for index, position in enumerate(positions)
            if position in converters
        ),
    )


# What a serializer may not redefine to use the fast path: each can make the output depend on
# the caller or the row in ways a plan, built once per class, cannot see.
CALLER_DEPENDENT = ("__init__", "get_fields", "to_representation", "fields", "data")


def _plan_base() -> type[serializers.ModelSerializer]:
    from core.api.serializers import TenantModelSerializer

    return TenantModelSerializer


def _planned(
    serializer_class: type[serializers.Serializer], ml_fields: bool
) -> tuple[RowPlan | None, list[str]]:
    """The row plan of ``serializer_class``, or None and why it cannot have one."""
    base = _plan_base()
    if not issubclass(serializer_class, base):
        return None, [f"{serializer_class.__name__} is not a {base.__name__}"]
    # The base's own caller dependency (the ML fields) is what the plan is built for; anything
    # a subclass redefines is not.
    problems = [
        f"{klass.__name__} defines {name}: its output may depend on the caller or the row"
        for klass in serializer_class.__mro__[: serializer_class.__mro__.index(base)]
        for name in CALLER_DEPENDENT
        if name in vars(klass)
    ]
    if problems:
        return None, problems
    model = serializer_class.Meta.model
    serializer = serializer_class(context={"include_ml_fields": ml_fields})
    names, columns, converters = [], [], []
    for field in serializer.fields.values():
        if field.write_only:
            continue
        column, convert = _column(model, field), _converter(field)
        if column is None:
            problems.append(f"{field.field_name} is not a plain column of {model.__name__}")
        elif convert is False:
            problems.append(f"{field.field_name} ({type(field).__name__}) needs the serializer")
        else:
            if convert is not None:
                converters.append((len(names), convert))
            names.append(field.field_name)
            columns.append(column)
    if problems:
        return None, problems
    return RowPlan(tuple(names), tuple(columns), tuple(converters)), []


def plan_problems(serializer_class: type[serializers.Serializer], ml_fields: bool) -> list[str]:
    """Why ``serializer_class`` (opted in with ``list_from_rows = True``) cannot have its lists
    built from plain rows; empty when it can. A system check (``core.checks``) runs this for every
    API viewset at start-up, so an opted-in serializer the plan cannot honour stops the service.
    """
    return _planned(serializer_class, ml_fields)[1]


@functools.cache
def row_plan(
    serializer_class: type[serializers.ModelSerializer], ml_fields: bool
) -> RowPlan | None:
    """The fast path for ``serializer_class`` (with or without ML fields), or None when it has
    not opted in (``list_from_rows``) or cannot have one (the system check refuses that at
    start-up; a list never serves it from rows)."""
    if not getattr(serializer_class, "list_from_rows", False):
        return None
    return _planned(serializer_class, ml_fields)[0]
