"""Bulk upsert by natural key: ``POST /api/<resource>/bulk`` (``BulkUpsertMixin``).

One request carries up to ``MAX_ROWS`` rows. Each row names its item by its natural key within
the caller's client (derived from the model's unique constraint on ``client`` + columns among
active rows: an issue's ``key``, a pull request's ``repository`` + ``number``, a user's
``email``) and is, in order of the answer's ``results``:

- ``created``: no active item had the key; the row is inserted (missing fields take their
  defaults, as for ``POST``);
- ``updated``: the item exists and the row changes it; only the fields the row gives are written
  (as for ``PATCH``);
- ``unchanged``: the item already holds every value the row gives; nothing is written (its
  ``last_updated_at`` and sync position stay);
- ``invalid``: the row's ``errors``, by field, in the words of a single write.

``atomic`` (default true) makes the request all-or-nothing: one invalid row is a 400 naming the
row and field, and nothing is written. With ``atomic: false`` the valid rows are written and the
invalid ones reported. A soft-deleted item is never revived: a row with its key creates a new
item, as ``POST`` would.

Rows are checked by the resource's own serializer fields and ``validate_<field>`` methods, so a
row is refused exactly when a single write of it would be; references may be given by id
(``project_id``) or by natural key (``project_key``). The client is always the caller's. The items
concerned are locked for the transaction; concurrent bulk writes of the same keys wait for each
other, and a key created concurrently by another request turns into an update on a retry.
Writes are one ``INSERT`` per set of columns the rows give (usually one) and one ``UPDATE``
(``jsonb_to_recordset``), so triggers (counts, change stamps) run once per statement. A request
that keeps meeting concurrent writers of the same keys (or deadlocks with one) is run again, at
most ``ATTEMPTS`` times, then answered 409.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

import orjson
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError, connections, models, router, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.fields import SkipField, get_error_detail
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator

from core.api.exceptions import Conflict
from core.api.idempotency import idempotent
from core.api.permissions import looks_at_objects
from core.api.serializers import TenantRelatedField, unknown_field_message
from core.api.similarity import EmbeddingInputField
from core.fields import EMBEDDING_COLUMN
from core.similarity import EmbeddingError, embedding_validate

MAX_ROWS = 1000
ENVELOPE_FIELDS = frozenset({"rows", "atomic"})
MEMO_TYPES = (str, int, float, bool, type(None))
STATUSES = ("created", "updated", "unchanged", "invalid")


ATTEMPTS = 3
# A deadlock and a serialization failure: the transaction can simply be run again.
RETRYABLE = frozenset({"40P01", "40001"})


class Conflicted(Exception):
    """A key was created by a concurrent request between the lookup and the insert."""


def natural_key(model: type[models.Model]) -> tuple[str, ...]:
    """The columns that identify an active row within its client: those of the model's unique
    constraint on ``client`` plus columns, among active rows (empty: no natural key)."""
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields[:1] == ("client",)
            and len(constraint.fields) > 1
            and constraint.condition == Q(active=True)
        ):
            return tuple(constraint.fields[1:])
    return ()


def key_references(model: type[models.Model]) -> dict[str, tuple[models.ForeignKey, str]]:
    """Row fields that name a related item by its natural key: ``<relation>_<key column>`` for
    every foreign key to a model with a one-column natural key (an issue's ``project_key``)."""
    references = {}
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, models.ForeignKey):
            key = natural_key(model_field.related_model)
            if len(key) == 1:
                references[f"{model_field.name}_{key[0]}"] = (model_field, key[0])
    return references


def _failed(error: exceptions.APIException) -> list:
    detail = error.detail
    return detail if isinstance(detail, list | dict) else [str(detail)]


class BulkRowBase:
    """What the bulk row serializer of a resource adds to the resource's serializer: the
    embedding as input, and validation of it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[EMBEDDING_COLUMN] = EmbeddingInputField(required=False, allow_null=True)

    def validate_embedding(self, value):
        if value is None:
            return None
        try:
            return embedding_validate(value)
        except EmbeddingError as error:
            raise serializers.ValidationError(str(error)) from None


def bulk_problems(base: type[serializers.ModelSerializer]) -> list[str]:
    """What ``RowValidator`` would check differently from a single write of ``base``."""
    serializer = base(context={"include_ml_fields": True})
    problems = []
    if not natural_key(base.Meta.model):
        problems.append("its model has no unique constraint on client + columns among active rows")
    if serializer.get_validators():
        problems.append("it has serializer-level validators")
    for model_field, _ in key_references(base.Meta.model).values():
        if not isinstance(serializer.fields.get(model_field.attname), TenantRelatedField):
            problems.append(f"{model_field.attname} is not a TenantRelatedField")
    for name, writable in serializer.fields.items():
        if writable.read_only:
            continue
        if "." in writable.source:
            problems.append(f"{name} has a dotted source")
        if any(isinstance(v, UniqueValidator) for v in writable.validators):
            problems.append(f"{name} has a unique validator (it depends on the row's item)")
    return problems


def bulk_row_serializer(base: type[serializers.ModelSerializer], excluded: tuple[str, ...]):
    """The serializer of one bulk row of ``base``'s resource: its fields, all optional but the
    natural key, the references by natural key, and the embedding; without ``excluded``."""
    problems = bulk_problems(base)
    if problems:
        raise ImproperlyConfigured(f"{base.__name__} cannot check bulk rows: {'; '.join(problems)}")
    model = base.Meta.model
    key = natural_key(model)
    references = key_references(model)
    fields = tuple(name for name in base.Meta.fields if name not in excluded)
    declared = {
        name: serializers.CharField(
            required=False,
            allow_null=True,
            max_length=model_field.related_model._meta.get_field(column).max_length,
            help_text=f"The {model_field.name}'s {column}, instead of {model_field.attname}.",
        )
        for name, (model_field, column) in references.items()
    }
    optional = {
        name: {"required": False}
        for name in fields
        if name not in key and name not in base._declared_fields
    }
    meta = type(
        "Meta",
        (base.Meta,),
        {
            "fields": (*fields, *references),
            "extra_kwargs": {**getattr(base.Meta, "extra_kwargs", {}), **optional},
        },
    )
    name = f"{base.__name__.removesuffix('Serializer')}BulkRow"
    return type(name, (BulkRowBase, base), {"Meta": meta, **declared, "__doc__": "One row."})


@dataclass
class RowOutcome:
    status: str = "invalid"
    id: int | None = None
    errors: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    key: tuple = ()


def _memo_key(name: str, value: object) -> tuple | None:
    """What identifies a field's input for reuse: a scalar, or a list of scalars (labels)."""
    if isinstance(value, MEMO_TYPES):
        return (name, type(value), value)
    if isinstance(value, list) and all(isinstance(item, MEMO_TYPES) for item in value):
        return (name, list, tuple((type(item), item) for item in value))
    return None


class RowValidator:
    """Validates rows with a serializer's own fields and ``validate_<field>`` methods.

    DRF's ``Serializer.to_internal_value`` visits every writable field of every row (raising
    ``SkipField`` for each absent one); this visits the fields a row gives, and remembers the
    result of a field for a scalar value it has seen in this request (a status, an assignee):
    fields do not depend on the row, only the ``validate_<field>`` methods may (they run per row,
    with ``serializer.instance`` set to the row's item).
    """

    def __init__(
        self,
        serializer: serializers.ModelSerializer,
        required: list[str],
        excluded: tuple[str, ...] = (),
    ) -> None:
        self.serializer = serializer
        self.excluded = excluded
        fields = serializer.fields
        self.writable = {name: f for name, f in fields.items() if not f.read_only}
        self.known = {*fields, *serializer.Meta.fields}
        self.required = required
        self.methods = {
            name: getattr(serializer, f"validate_{name}")
            for name in self.writable
            if hasattr(serializer, f"validate_{name}")
        }
        self.memo: dict = {}

    def field_value(self, name: str, value):
        """``value`` validated by the field ``name`` (raises ValidationError)."""
        key = _memo_key(name, value)
        if key is not None and key in self.memo:
            validated, error = self.memo[key]
            if error is not None:
                raise serializers.ValidationError(error)
            return validated
        try:
            validated = self.writable[name].run_validation(value)
        except serializers.ValidationError as error:
            if key is not None:
                self.memo[key] = (None, error.detail)
            raise
        if key is not None:
            self.memo[key] = (validated, None)
        return validated

    def validate(
        self, row: Mapping, instance: models.Model | None, resolved: dict | None = None
    ) -> tuple[dict, dict]:
        """The validated attributes of ``row`` (a change of ``instance``, or a new item when
        None) with ``resolved`` (attributes and errors found for it beforehand: references by
        natural key), and its errors by field."""
        resolved = resolved or {}
        serializer = self.serializer
        serializer.instance = instance
        serializer.partial = instance is not None
        attrs, errors = {}, {}
        for name, value in row.items():
            writable = self.writable.get(name)
            if name in self.excluded:
                errors[name] = ["Not accepted in bulk rows: set it one item at a time."]
                continue
            if writable is None:
                if name not in self.known:
                    errors[name] = [unknown_field_message(serializer)]
                continue
            try:
                validated = self.field_value(name, value)
                method = self.methods.get(name)
                if method is not None:
                    validated = method(validated)
            except SkipField:
                continue
            except Conflict as error:
                if instance is None:
                    # Written by a concurrent request since the lookup: run it again.
                    raise Conflicted from error
                errors[name] = _failed(error)
            except DjangoValidationError as error:
                errors[name] = get_error_detail(error)
            except exceptions.APIException as error:  # 400s, and a 403 or 409 of a validator
                errors[name] = _failed(error)
            else:
                attrs[writable.source] = validated
        if instance is None:
            for name in self.required:
                if name not in row:
                    errors[name] = [str(self.writable[name].error_messages["required"])]
        errors.update(resolved.get("errors", {}))
        attrs.update(resolved.get("attrs", {}))
        if not errors:
            try:
                attrs = serializer.validate(attrs)
            except exceptions.APIException as error:
                detail = error.detail
                errors = (
                    detail if isinstance(detail, dict) else {"non_field_errors": _failed(error)}
                )
        return attrs, errors


@functools.cache
def _columns(model: type[models.Model]) -> dict[str, tuple[str, models.Field]]:
    """Each field name (and column name) of ``model``: its column and field."""
    found = {}
    for model_field in model._meta.concrete_fields:
        found[model_field.name] = found[model_field.attname] = (model_field.attname, model_field)
    return found


def _column_values(model: type[models.Model], attrs: dict) -> dict[str, object]:
    """Validated attributes as column values (a related item as its id)."""
    columns = _columns(model)
    values = {}
    for name, value in attrs.items():
        column, model_field = columns[name]
        if isinstance(value, models.Model) and isinstance(model_field, models.ForeignKey):
            value = value.pk
        values[column] = value
    return values


def _json_value(value: object) -> object:
    """What ``json`` cannot write itself: times, vectors."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


class BulkUpsert:
    """One bulk request of a viewset (see the module's docstring)."""

    def __init__(self, view, rows: list, *, atomic: bool) -> None:
        self.view = view
        self.rows = rows
        self.atomic = atomic
        self.model = view.queryset.model
        self.key = natural_key(self.model)
        self.references = key_references(self.model)
        self.client_id = view.scope.client_id
        self.alias = router.db_for_write(self.model)  # records the write (read-your-writes)
        self.outcomes = [RowOutcome() for _ in rows]

    # The steps, in order.

    def run(self) -> list[RowOutcome]:
        """Validate and write, in one transaction; again (at most ``ATTEMPTS`` times) when a
        concurrent request created one of the keys first or the two deadlocked."""
        for _ in range(ATTEMPTS):
            try:
                with transaction.atomic(using=self.alias):
                    self.outcomes = [RowOutcome() for _ in self.rows]
                    self._validate()
                    invalid = {str(i): o.errors for i, o in enumerate(self.outcomes) if o.errors}
                    if self.atomic and invalid:
                        raise exceptions.ValidationError({"rows": invalid})
                    self._write()
                return self.outcomes
            except Conflicted:
                continue
            except OperationalError as error:
                if getattr(error.__cause__, "sqlstate", None) not in RETRYABLE:
                    raise
        raise Conflict(
            "Concurrent requests kept writing the same items; retry the request.",
            fields=list(self.key),
        )

    def _validate(self) -> None:
        view = self.view
        serializer_class = view.bulk_row_serializer_class
        context = {**view.get_serializer_context(), "related_rows": {}, "include_ml_fields": True}
        serializer = serializer_class(context=context)
        base_fields = view.get_serializer_class()(context=context).fields
        required = [
            name
            for name, f in base_fields.items()
            if f.required and not f.read_only
            if name in serializer.fields
        ]
        validator = RowValidator(serializer, required, view.bulk_excluded_fields)
        keys = self._keys(validator)
        self._prefetch_related(serializer, context["related_rows"])
        referenced = self._resolve_references(validator)
        existing = self._existing(keys, as_models=self._looks_at_items(serializer))
        for index, (row, outcome) in enumerate(zip(self.rows, self.outcomes, strict=True)):
            if outcome.errors:
                continue
            instance = existing.get(outcome.key)
            if isinstance(instance, models.Model):
                refused = self._refused(instance)
                if refused:
                    outcome.errors = {"non_field_errors": [refused]}
                    continue
            given = {name: value for name, value in row.items() if name not in self.references}
            attrs, errors = validator.validate(given, instance, referenced.get(index))
            if errors:
                outcome.errors = errors
                continue
            outcome.attrs = _column_values(self.model, attrs)
            if instance is None:
                outcome.status = "created"
            else:
                # Updated, or unchanged when the database finds every value already stored.
                outcome.id, outcome.status = instance.pk, "updated"

    def _looks_at_items(self, serializer) -> bool:
        """Whether the row's item is looked at by more than its columns: a ``validate_<field>``
        method of the resource (they may read ``serializer.instance``) or an object permission."""
        methods = {
            name for name in serializer.fields
            if hasattr(serializer, f"validate_{name}") and not hasattr(BulkRowBase, f"validate_{name}")
        }  # fmt: skip
        return bool(methods) or looks_at_objects(self.view)

    def _keys(self, validator: RowValidator) -> set[tuple]:
        """Each row's natural key, checked by the key fields; a key given twice is an error."""
        seen: dict[tuple, int] = {}
        normalize = getattr(self.view, "bulk_key_normalizers", {})
        for index, (row, outcome) in enumerate(zip(self.rows, self.outcomes, strict=True)):
            if not isinstance(row, Mapping):
                outcome.errors = {
                    "non_field_errors": [f"Expected an object, got {type(row).__name__}."]
                }
                continue
            parts, errors = [], {}
            for name in self.key:
                if name not in row:
                    errors[name] = ["This field is required: it identifies the item."]
                    continue
                try:
                    value = validator.field_value(name, row[name])
                except serializers.ValidationError as error:
                    errors[name] = _failed(error)
                    continue
                parts.append(normalize[name](value) if name in normalize else value)
            if errors:
                outcome.errors = errors
                continue
            outcome.key = tuple(parts)
            if outcome.key in seen:
                outcome.errors = {
                    name: [f"Row {seen[outcome.key]} has the same {' + '.join(self.key)}: "
                           "give each item once per request."]
                    for name in self.key
                }  # fmt: skip
                continue
            seen[outcome.key] = index
        return set(seen)

    def _prefetch_related(self, serializer, related_rows: dict) -> None:
        """The related items the rows name by id, in one query per relation (the related fields
        look them up there instead of one query per row)."""
        for name, related_field in serializer.fields.items():
            if not isinstance(related_field, TenantRelatedField) or related_field.read_only:
                continue
            ids = {
                row[name]
                for row in self.rows
                if isinstance(row, Mapping) and type(row.get(name)) is int and 0 < row[name] < 2**63
            }
            # The field's own queryset: the caller's client's active rows.
            scope = related_field.get_queryset().using(self.alias)
            found = scope.filter(pk__in=ids) if ids else ()
            related_rows.setdefault(related_field.queryset.model, {}).update(
                (row.pk, row) for row in found
            )

    def _resolve_references(self, validator: RowValidator) -> dict[int, dict]:
        """Per row: the related items named by natural key (``project_key``), or errors."""
        resolved: dict[int, dict] = {}
        for name, (model_field, column) in self.references.items():
            wanted: dict[int, str | None] = {}
            for index, row in enumerate(self.rows):
                if not isinstance(row, Mapping) or name not in row:
                    continue
                entry = resolved.setdefault(index, {"attrs": {}, "errors": {}})
                by_id = [row[n] for n in (model_field.attname, model_field.name) if n in row]
                if by_id and not (row[name] is None and all(v is None for v in by_id)):
                    entry["errors"][name] = [f"Give {model_field.attname} or {name}, not both."]
                    continue
                try:
                    wanted[index] = validator.field_value(name, row[name])
                except serializers.ValidationError as error:
                    entry["errors"][name] = _failed(error)
            keys = {value for value in wanted.values() if value is not None}
            related = model_field.related_model
            # The related field's own queryset: the caller's client's active rows.
            scope = validator.serializer.fields[model_field.attname].get_queryset()
            found = {
                getattr(item, column): item
                for item in scope.using(self.alias).filter(**{f"{column}__in": keys})
            } if keys else {}  # fmt: skip
            for index, value in wanted.items():
                entry = resolved[index]
                if value is None:
                    entry["attrs"][model_field.name] = None
                elif value in found:
                    entry["attrs"][model_field.name] = found[value]
                else:
                    entry["errors"][name] = [
                        f"No {related._meta.verbose_name} with {column} {value!r} in your client."
                    ]
        return resolved

    def _existing(self, keys: set[tuple], *, as_models: bool) -> dict[tuple, object]:
        """The active items with these keys: model instances, locked for the transaction in id
        order, when ``as_models`` (a validator or a permission decides by them); else only their
        ids (the UPDATE compares and locks)."""
        if not keys:
            return {}
        queryset = self.model.objects.using(self.alias).filter(
            client_id=self.client_id, active=True
        )
        queryset = queryset.filter(self._keys_condition(keys))
        if as_models:
            items = queryset.defer(EMBEDDING_COLUMN).order_by("pk").select_for_update(of=("self",))
            found = ((tuple(getattr(item, name) for name in self.key), item) for item in items)
        else:
            found = (
                (tuple(row[1:]), SimpleNamespace(pk=row[0]))
                for row in queryset.values_list("pk", *self.key)
            )
        return {key: item for key, item in found if key in keys}

    def _keys_condition(self, keys: set[tuple]) -> RawSQL:
        """``(key columns) = any of keys``, with one array parameter per column (a thousand
        keys as a thousand parameters cost Django more to compile than the query to run)."""
        connection = connections[self.alias]
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        fields = [self.model._meta.get_field(name) for name in self.key]
        arrays = [[key[position] for key in keys] for position in range(len(fields))]
        if len(fields) == 1:
            sql = f"{table}.{quote(fields[0].column)} = ANY(%s)"
        else:
            columns = ", ".join(f"{table}.{quote(f.column)}" for f in fields)
            typed = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            sql = f"({columns}) IN (SELECT * FROM unnest({typed}))"
        return RawSQL(sql, arrays, output_field=models.BooleanField())

    def _refused(self, instance: models.Model) -> str | None:
        """Why the caller may not change ``instance`` (the viewset's object permissions)."""
        try:
            self.view.check_object_permissions(self.view.request, instance)
        except exceptions.APIException as error:
            return str(error.detail)
        return None

    def _write(self) -> None:
        creates = [o for o in self.outcomes if o.status == "created"]
        updates = [o for o in self.outcomes if o.status == "updated"]
        if creates:
            self._insert(creates)
        if updates:
            self._update(updates)
        self.view.bulk_written(
            created=[o.id for o in creates],
            updated=[o.id for o in updates if o.status == "updated"],
        )

    def _recordset(self, columns: list[str], records: list[dict]) -> tuple[str, str]:
        """``jsonb_to_recordset(...) AS v(...)`` for ``records`` (column -> value), and its JSON."""
        connection = connections[self.alias]
        quote = connection.ops.quote_name
        meta = self.model._meta
        definitions = ", ".join(
            f"{quote(column)} {meta.get_field(column).db_type(connection)}"
            if column != "id" else "id bigint"
            for column in columns
        )  # fmt: skip
        try:
            document = orjson.dumps(records, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        except TypeError:  # an integer beyond 64 bits in a JSON field: jsonb holds it
            document = json.dumps(records, default=_json_value)
        return f"jsonb_to_recordset(%s::jsonb) AS v({definitions})", document

    def _insert(self, creates: list[RowOutcome]) -> None:
        """One INSERT per set of columns the rows give (the rest take their defaults), in key
        order (concurrent requests wait for each other's keys in the same order)."""
        groups: dict[tuple[str, ...], list[RowOutcome]] = {}
        for outcome in sorted(creates, key=lambda o: o.key):
            groups.setdefault(tuple(sorted(outcome.attrs)), []).append(outcome)
        meta = self.model._meta
        quote = connections[self.alias].ops.quote_name
        keys = ", ".join(quote(meta.get_field(name).column) for name in self.key)
        for columns, group in groups.items():
            source, document = self._recordset(list(columns), [o.attrs for o in group])
            names = ", ".join(quote(column) for column in columns)
            sql = (
                f"INSERT INTO {quote(meta.db_table)} (client_id, {names}) "
                f"SELECT %s, {names} FROM {source} "
                f"ON CONFLICT (client_id, {keys}) WHERE active DO NOTHING "
                f"RETURNING id, {keys}"
            )
            with connections[self.alias].cursor() as cursor:
                cursor.execute(sql, [self.client_id, document])
                inserted = {tuple(row[1:]): row[0] for row in cursor.fetchall()}
            if len(inserted) != len(group):
                raise Conflicted
            for outcome in group:
                outcome.id = inserted[outcome.key]

    def _update(self, updates: list[RowOutcome]) -> None:
        """One UPDATE per set of columns the rows give, of the rows that differ from what is
        stored (the database compares, on the row version it locks): the others are
        ``unchanged``. An item deleted since the lookup retries the request (it is new now)."""
        groups: dict[tuple[str, ...], list[RowOutcome]] = {}
        for outcome in sorted(updates, key=lambda o: o.id):
            groups.setdefault(tuple(sorted(outcome.attrs)), []).append(outcome)
        quote = connections[self.alias].ops.quote_name
        table = quote(self.model._meta.db_table)
        written: set[int] = set()
        for columns, group in groups.items():
            source, document = self._recordset(
                ["id", *columns], [{"id": o.id, **o.attrs} for o in group]
            )
            names = ", ".join(f"t.{quote(column)}" for column in columns)
            given = ", ".join(f"v.{quote(column)}" for column in columns)
            assignments = ", ".join(f"{quote(column)} = v.{quote(column)}" for column in columns)
            sql = (
                f"UPDATE {table} AS t SET {assignments} FROM {source} "
                "WHERE t.id = v.id AND t.client_id = %s AND t.active "
                f"AND ROW({names}) IS DISTINCT FROM ROW({given}) RETURNING t.id"
            )
            with connections[self.alias].cursor() as cursor:
                cursor.execute(sql, [document, self.client_id])
                written.update(row[0] for row in cursor.fetchall())
        others = [o.id for o in updates if o.id not in written]
        if others:
            with connections[self.alias].cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM {table} WHERE id = ANY(%s) AND client_id = %s "
                    "AND active",
                    [others, self.client_id],
                )
                if cursor.fetchone()[0] != len(others):
                    raise Conflicted
        for outcome in updates:
            if outcome.id not in written:
                outcome.status = "unchanged"


def _envelope(data) -> tuple[list, bool]:
    """The rows and the mode of a bulk body; a 400 naming what is wrong."""
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError(
            {"non_field_errors": ['Expected an object: {"rows": [...], "atomic": true}.']}
        )
    unknown = sorted(set(data) - ENVELOPE_FIELDS)
    if unknown:
        raise exceptions.ValidationError(
            {name: ["Unknown field; the fields are: atomic, rows."] for name in unknown}
        )
    rows = data.get("rows")
    if not isinstance(rows, list):
        problem = "This field is required." if rows is None else "Expected a list of objects."
        raise exceptions.ValidationError({"rows": [problem]})
    if not rows:
        raise exceptions.ValidationError({"rows": ["At least one row."]})
    if len(rows) > MAX_ROWS:
        raise exceptions.ValidationError(
            {"rows": [f"At most {MAX_ROWS} rows per request; got {len(rows)}."]}
        )
    atomic = data.get("atomic", True)
    if not isinstance(atomic, bool):
        raise exceptions.ValidationError({"atomic": ["Expected true or false."]})
    return rows, atomic


class BulkRowResultSerializer(serializers.Serializer):
    """What became of one row."""

    index = serializers.IntegerField(help_text="The row's position in the request.")
    status = serializers.ChoiceField(choices=STATUSES)
    id = serializers.IntegerField(allow_null=True, help_text="The item's id (null: invalid).")
    errors = serializers.DictField(
        required=False, help_text="Only when invalid: the messages, by field."
    )


class BulkResultSerializer(serializers.Serializer):
    """Per row, in order, what became of it; and how many rows became what."""

    results = BulkRowResultSerializer(many=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    invalid = serializers.IntegerField()


class BulkUpsertMixin:
    """``POST /api/<resource>/bulk``: create or update many items by natural key (see the
    module's docstring). A viewset may exclude fields from bulk rows (``bulk_excluded_fields``),
    normalize key values (``bulk_key_normalizers``) and act on what was written
    (``bulk_written``)."""

    bulk_excluded_fields: tuple[str, ...] = ()
    bulk_key_normalizers: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "serializer_class", None) is None:
            return
        row = bulk_row_serializer(cls.serializer_class, cls.bulk_excluded_fields)
        cls.bulk_row_serializer_class = row
        request = type(
            f"{row.__name__}s",
            (serializers.Serializer,),
            {
                "__doc__": f"At most {MAX_ROWS} rows, each naming its item by "
                f"{' + '.join(natural_key(cls.queryset.model))}.",
                "rows": serializers.ListField(child=row(), min_length=1, max_length=MAX_ROWS),
                "atomic": serializers.BooleanField(
                    default=True,
                    help_text="true: all rows or none (an invalid row is a 400); false: the "
                    "valid rows are written and the invalid ones reported.",
                ),
            },
        )
        extend_schema_view(
            bulk=extend_schema(request=request, responses={200: BulkResultSerializer})
        )(cls)

    @action(detail=False, methods=["post"], url_path="bulk", filterset_class=None)
    @idempotent
    def bulk(self, request):
        """Create or update up to 1,000 items by natural key, in one transaction."""
        rows, atomic = _envelope(request.data)
        outcomes = BulkUpsert(self, rows, atomic=atomic).run()
        results, tally = [], dict.fromkeys(STATUSES, 0)
        for index, outcome in enumerate(outcomes):
            result = {"index": index, "status": outcome.status, "id": outcome.id}
            if outcome.errors:
                result["errors"] = outcome.errors
            results.append(result)
            tally[outcome.status] += 1
        return Response({"results": results, **tally})

    def bulk_written(self, *, created: list[int], updated: list[int]) -> None:
        """Called in the transaction once the rows are written."""
