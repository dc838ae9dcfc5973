"""The list fast path: a page serialized straight from database rows, with the serializer's output.

A ModelSerializer spends most of a list's time in per-field calls (``get_attribute``,
``to_representation``) on model instances: about 3,000 calls for 100 issues. Most fields are
plain columns whose database value already is the output value (strings, numbers, booleans,
UTC datetimes that the renderer writes in DRF's ISO 8601 form). ``row_plan()`` works out, once
per serializer class, which column feeds each output field and which few values still need a
conversion; ``RowPlan.fetch()`` then runs the page query (``values_list``, in binary format) and
builds the dicts. A serializer with a field that is not a plain column (a property, a method
field, a nested serializer, a column with a database converter such as JSON) gets no plan and
keeps the ordinary serializer path. ``core/tests/test_rows.py`` checks both give the same JSON.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections, models
from pgvector import Vector
from pgvector.django import VectorField
from rest_framework import ISO_8601, fields, relations, serializers

from core.api.serializers import EmbeddingField
from core.db.binary_reads import binary_cursor

Converter = Callable[[object], object]

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

    def fetch(
        self, queryset: models.QuerySet, key_fields: Sequence[str] = ()
    ) -> tuple[list[dict], list[tuple]]:
        """The rows of ``queryset`` as output dicts, and the values of ``key_fields`` of each."""
        meta = queryset.model._meta
        key_columns = [meta.get_field(name).attname for name in key_fields]
        columns = self.columns + tuple(c for c in key_columns if c not in self.columns)
        values = queryset.values_list(*columns)
        alias = values.db
        try:
            sql, params = values.query.get_compiler(using=alias).as_sql()
        except EmptyResultSet:
            return [], []
        with binary_cursor(connections[alias]) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        names = self.names
        trim = len(columns) != len(names)
        items = []
        for row in rows:
            item = dict(zip(names, row[: len(names)] if trim else row, strict=True))
            for position, convert in self.converters:
                value = row[position]
                if value is not None:
                    item[names[position]] = convert(value)
            items.append(item)
        positions = [columns.index(column) for column in key_columns]
        keys = [tuple(row[p] for p in positions) for row in rows] if positions else []
        return items, keys


@functools.cache
def row_plan(
    serializer_class: type[serializers.ModelSerializer], ml_fields: bool
) -> RowPlan | None:
    """The fast path for ``serializer_class`` (with or without ML fields), or None."""
    model = serializer_class.Meta.model
    serializer = serializer_class(context={"include_ml_fields": ml_fields})
    names, columns, converters = [], [], []
    for field in serializer._readable_fields:
        column = _column(model, field)
        convert = _converter(field)
        if column is None or convert is False:
            return None
        if convert is not None:
            converters.append((len(names), convert))
        names.append(field.field_name)
        columns.append(column)
    return RowPlan(tuple(names), tuple(columns), tuple(converters))
