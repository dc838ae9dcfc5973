"""Embedding and "similar items" endpoints, shared by every resource that carries an embedding.

- ``PUT /api/<resource>/{id}/embedding`` ``{"embedding": [1536 numbers]}``; ``DELETE`` clears it.
- ``GET /api/<resource>/{id}/similar?limit=10``: nearest items of the same client.
- ``POST /api/<resource>/similar`` ``{"embedding": [...], "limit": k}``: search by a vector; the
  list endpoint's filters (e.g. ``?project_id=``) narrow it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import Conflict
from core.api.grammar import QueryIntegerField, StrictIntegerField
from core.api.params import validate_query
from core.api.permissions import looks_at_objects
from core.api.rows import row_plan
from core.api.schema import ErrorSerializer
from core.api.serializers import KnownFieldsOnly
from core.fields import EMBEDDING_DIMENSIONS
from core.similarity import (
    EmbeddingError,
    NoVector,
    embedding_set,
    embedding_validate,
    similar_rows,
    similar_values,
)

MAX_SIMILAR = 100


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number", "minimum": -3.4e38, "maximum": 3.4e38},
        "minItems": EMBEDDING_DIMENSIONS,
        "maxItems": EMBEDDING_DIMENSIONS,
        # Not all zeros: a zero vector has no direction.
        "not": {"items": {"enum": [0]}},
        "description": f"{EMBEDDING_DIMENSIONS} finite numbers (text-embedding-3-small).",
    }
)
class EmbeddingInputField(serializers.JSONField):
    """Any JSON, checked by ``embedding_validate`` so that errors say what was expected."""


class EmbeddingBodySerializer(KnownFieldsOnly, serializers.Serializer):
    """An embedding to store: exactly 1536 finite numbers."""

    embedding = EmbeddingInputField()

    def validate_embedding(self, value):
        try:
            return embedding_validate(value)
        except EmbeddingError as error:
            raise serializers.ValidationError(str(error)) from None


class SimilarSearchSerializer(EmbeddingBodySerializer):
    """A vector to search by, and how many neighbours to return."""

    limit = StrictIntegerField(required=False, default=10, min_value=1, max_value=MAX_SIMILAR)


class SimilarLimitSerializer(serializers.Serializer):
    """``?limit=`` of the similar endpoint."""

    limit = QueryIntegerField(required=False, default=10, min_value=1, max_value=MAX_SIMILAR)


class EmbeddingStoredSerializer(serializers.Serializer):
    """Confirmation that an embedding was stored."""

    id = serializers.IntegerField()
    embedding_dimensions = serializers.IntegerField()


class SimilarityMixin:
    """Adds the embedding and similarity actions to a TenantViewSet."""

    read_actions = ("similar", "similar_search")

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        base = cls.serializer_class
        cls.similar_item_serializer = type(
            f"Similar{base.__name__.removesuffix('Serializer')}",
            (base,),
            {
                "__doc__": "An item with its cosine distance to the query (similarity = 1 - distance).",
                "distance": serializers.FloatField(read_only=True),
                "similarity": serializers.FloatField(read_only=True),
                "Meta": type(
                    "Meta", (base.Meta,), {"fields": (*base.Meta.fields, "distance", "similarity")}
                ),
            },
        )
        envelope = type(
            f"Similar{base.__name__.removesuffix('Serializer')}List",
            (serializers.Serializer,),
            {
                "__doc__": "The nearest items, closest first.",
                cls.list_key: cls.similar_item_serializer(many=True),
                "count": serializers.IntegerField(),
                "limit": serializers.IntegerField(),
            },
        )
        extend_schema_view(
            similar=extend_schema(
                parameters=[SimilarLimitSerializer],
                responses={200: envelope, 409: ErrorSerializer},
            ),
            similar_search=extend_schema(
                request=SimilarSearchSerializer, responses=envelope, filters=True
            ),
        )(cls)

    def _nearest(self, queryset, vector, limit: int) -> Response:
        """The answer of a search: the ``limit`` rows of ``queryset`` nearest to ``vector``."""
        plan = row_plan(type(self).serializer_class, self.scope.include_ml_fields)
        if plan is None:
            rows = similar_rows(queryset=queryset, vector=vector, k=limit)
            for row in rows:
                row.similarity = 1.0 - row.distance
            data = self.similar_item_serializer(
                rows, many=True, context=self.get_serializer_context()
            ).data
        else:
            # As for lists (core.api.rows): the items from their columns, read in binary.
            columns = plan.reading([queryset.model._meta.pk.attname])
            found = similar_values(queryset=queryset, vector=vector, k=limit, columns=columns)
            data = [
                item | {"distance": row[-1], "similarity": 1.0 - row[-1]}
                for item, row in zip(plan.items(found), found, strict=True)
            ]
        return Response({self.list_key: data, "count": len(data), "limit": limit})

    @extend_schema(
        request=EmbeddingBodySerializer, responses={200: EmbeddingStoredSerializer, 204: None}
    )
    @action(detail=True, methods=["put", "delete"], filterset_class=None)
    def embedding(self, request, pk=None):
        """Store (PUT) or clear (DELETE) this item's embedding."""
        vector = None
        if request.method == "PUT":
            body = EmbeddingBodySerializer(data=request.data)
            body.is_valid(raise_exception=True)
            vector = body.validated_data["embedding"]
        with self.changing_one_row():
            row = self.get_object()
            embedding_set(row=row, vector=vector)
        if request.method == "DELETE":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"id": row.pk, "embedding_dimensions": EMBEDDING_DIMENSIONS})

    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def similar(self, request, pk=None):
        """The nearest items of the caller's client to this one (cosine distance)."""
        limit = validate_query(request, SimilarLimitSerializer)["limit"]
        if looks_at_objects(self):
            pk = self.get_object().pk  # the permission sees the row first
        scoped = self.get_queryset()
        # The stored vector (of a row the caller may see), read by the search itself: same
        # server, same snapshot, and no query of its own.
        stored = scoped.filter(pk=pk, embedding__isnull=False).order_by().values("embedding")
        try:
            return self._nearest(scoped.exclude(pk=pk), stored, limit)
        except NoVector:
            self.get_object()  # 404 when the row is not the caller's to see
            raise Conflict(
                f"This item has no embedding: PUT one to {request.path.rsplit('/similar', 1)[0]}"
                "/embedding first."
            ) from None

    @action(detail=False, methods=["post"], url_path="similar", pagination_class=None)
    def similar_search(self, request):
        """The nearest items of the caller's client to a query vector."""
        body = SimilarSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        queryset = self.filter_queryset(self.get_queryset())
        return self._nearest(
            queryset, body.validated_data["embedding"], body.validated_data["limit"]
        )
