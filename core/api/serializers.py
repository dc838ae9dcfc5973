"""Serializer pieces shared by the tenant endpoints."""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.grammar import STRICT_FIELDS
from core.fields import EMBEDDING_DIMENSIONS

TENANT_READ_ONLY_FIELDS = ("id", "client_id", "active", "created_at", "last_updated_at")


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number"},
        "minItems": EMBEDDING_DIMENSIONS,
        "maxItems": EMBEDDING_DIMENSIONS,
        "nullable": True,
    }
)
class EmbeddingField(serializers.Field):
    """A pgvector value as a JSON array of floats (or null); read-only here."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> list[float]:
        return value.tolist() if hasattr(value, "tolist") else list(value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that must point at an active row of the caller's client (else 400)."""

    default_error_messages = {
        "does_not_exist": "No {model} with id {pk_value} in your client.",
        "incorrect_type": "Expected an integer id, got {data_type}.",
    }

    def get_queryset(self):
        return super().get_queryset().filter(client_id=self.context["client_id"], active=True)

    def to_internal_value(self, data):
        # A JSON integer only: not a boolean, a float, or a string ("12", " 12", other digits).
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, int) and not 0 < data < 2**63:
            self.fail("does_not_exist", pk_value=data)
        # Rows looked up beforehand for many values at once (a bulk write).
        known = self.context.get("related_rows", {}).get(self.queryset.model)
        if known is not None:
            if data not in known:
                self.fail("does_not_exist", pk_value=data)
            return known[data]
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            raise
        except (TypeError, ValueError, OverflowError):
            self.fail("incorrect_type", data_type=type(data).__name__)

    def fail(self, key, **kwargs):
        kwargs.setdefault("model", self.queryset.model._meta.verbose_name)
        super().fail(key, **kwargs)


def unknown_field_message(serializer: serializers.Serializer) -> str:
    """What a body field ``serializer`` does not know is told."""
    writable = sorted(name for name, field in serializer.fields.items() if not field.read_only)
    return f"Unknown field; the writable fields are: {', '.join(writable)}."


class KnownFieldsOnly:
    """A body field the serializer does not know is a 400 naming it, not silently dropped
    (read-only fields are known: a client may send back what it read)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {*self.fields, *getattr(getattr(self, "Meta", None), "fields", ())}
            unknown = [name for name in data if name not in known]
            if unknown:
                message = unknown_field_message(self)
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class TenantModelSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    """Adds ``client_id``; shows ``embedding`` only when the request asked for ML fields."""

    # True: lists are built straight from rows (core.api.rows), a contract checked at start-up.
    list_from_rows = False

    client_id = serializers.IntegerField(read_only=True)
    embedding = EmbeddingField(
        allow_null=True,
        help_text=f"{EMBEDDING_DIMENSIONS} floats, or null. Only with include_ml_fields=true.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A request says whether it wants ML fields; without one (the schema), the
        # representation is described whole: embedding included, as null or 1536 numbers.
        if not self.context.get("include_ml_fields", True):
            self.fields.pop("embedding", None)

    def build_standard_field(self, field_name, model_field):
        """The model's columns as strict fields: JSON numbers only, no NUL in JSON
        (``core.api.grammar``)."""
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        return STRICT_FIELDS.get(field_class, field_class), field_kwargs
