"""Embeddings and nearest-neighbour search over the tenant models (pgvector, HNSW, cosine).

Searches run on an ML session (on a standby; ``ml_primary`` when no standby is usable, or none has
yet replayed the caller's latest write), inside one transaction that sets ``hnsw.ef_search`` and
``hnsw.iterative_scan = relaxed_order`` with ``SET LOCAL``: the HNSW index keeps scanning until
it has found ``k`` rows of the caller's client, so a small tenant in a big table still gets ``k``
results. Relaxed order may return neighbours slightly out of order, so they are re-sorted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, models, transaction
from django.db.models import Subquery
from django.utils import timezone
from pgvector import Vector
from pgvector.django import CosineDistance

from core.db.binary_reads import binary_cursor
from core.db.query_shape import select_sql
from core.db.router import ml_session
from core.fields import EMBEDDING_DIMENSIONS
from core.models import TenantModel

logger = logging.getLogger(__name__)


FLOAT32_MAX = 3.4e38


class EmbeddingError(ValueError):
    """A vector that cannot be stored: wrong length or non-finite values."""


def embedding_validate(value: object) -> list[float]:
    """Check a client-sent embedding; the message says what was expected and what was sent."""
    if not isinstance(value, list):
        raise EmbeddingError(
            f"expected a list of {EMBEDDING_DIMENSIONS} numbers, got {type(value).__name__}"
        )
    if len(value) != EMBEDDING_DIMENSIONS:
        raise EmbeddingError(f"expected {EMBEDDING_DIMENSIONS} dimensions, got {len(value)}")
    for position, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise EmbeddingError(
                f"expected numbers, got {type(number).__name__} at position {position}"
            )
        # An int is compared exactly (a 400-digit one does not fit a float at all).
        if (isinstance(number, float) and not math.isfinite(number)) or abs(number) > FLOAT32_MAX:
            shown = repr(number) if isinstance(number, float) else f"{str(number)[:20]}..."
            raise EmbeddingError(
                f"expected finite numbers within float32 range, got {shown} at position {position}"
            )
    # As stored: a number below float32's smallest (1e-46) is 0 there.
    if not np.asarray(value, dtype=np.float32).any():
        raise EmbeddingError(
            "all 1536 numbers are 0 as stored (float32): a zero vector has no direction (no item is near it)"
        )
    return [float(number) for number in value]


@transaction.atomic
def embedding_set(*, row: TenantModel, vector: Sequence[float] | None) -> None:
    """Store (or, with None, clear) ``row``'s embedding."""
    type(row).objects.filter(pk=row.pk).update(embedding=vector, last_updated_at=timezone.now())


# The search's settings, for its transaction only (as SET LOCAL), in one round trip.
SEARCH_SETTINGS = (
    "SELECT set_config('hnsw.ef_search', %s, true), "
    "set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    "set_config('hnsw.max_scan_tuples', %s, true)"
)
ONE_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; "


class NoVector(LookupError):
    """The row searched by has no stored embedding."""


def _search(
    alias: str,
    queryset: models.QuerySet,
    vector: Sequence[float] | models.QuerySet,
    k: int,
    columns: Sequence[str] | None,
) -> list:
    # A transaction of its own gets one snapshot for all its statements: a search by a stored
    # vector that finds nothing asks, in the same snapshot, whether there was a vector at all.
    own = not connections[alias].in_atomic_block
    stored = isinstance(vector, models.QuerySet)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            (ONE_SNAPSHOT if own else "") + SEARCH_SETTINGS,
            [str(settings.VECTOR_EF_SEARCH), str(settings.VECTOR_MAX_SCAN_TUPLES)],
        )
        if columns is None:
            target = Subquery(vector) if stored else vector
            found = list(
                queryset.using(alias)
                .annotate(distance=CosineDistance("embedding", target))
                .order_by("distance")[:k]
            )
            distances = [row.distance for row in found]
        else:
            found = _nearest_values(alias, queryset, vector, k, columns)
            distances = [row[-1] for row in found]
        # With no vector to search by, every distance is NULL (and there may be no rows at all).
        if stored and all(d is None for d in distances) and not vector.using(alias).exists():
            raise NoVector
    # A zero vector has no direction: its cosine distance to anything is NaN, so it is no one's
    # neighbour; with no vector at all (a subquery that found none) it is NULL.
    pk = None if columns is None else list(columns).index(queryset.model._meta.pk.attname)
    nearest = sorted(
        (
            (distance, row.pk if pk is None else row[pk], row)
            for distance, row in zip(distances, found, strict=True)
            if distance is not None and not math.isnan(distance)
        ),
        key=lambda entry: entry[:2],
    )
    return [row for _, _, row in nearest]


def _nearest_values(
    alias: str,
    queryset: models.QuerySet,
    vector: Sequence[float] | models.QuerySet,
    k: int,
    columns: Sequence[str],
) -> list[tuple]:
    """The search's rows, read in binary: ``columns``, then the distance."""
    statement = nearest_sql(alias, queryset, vector, k, columns)
    if statement is None:
        return []
    with binary_cursor(connections[alias]) as cursor:
        cursor.execute(*statement)
        return cursor.fetchall()


def nearest_sql(
    alias: str,
    queryset: models.QuerySet,
    vector: Sequence[float] | models.QuerySet,
    k: int,
    columns: Sequence[str],
) -> tuple[str, tuple] | None:
    """The search as one statement (None when ``queryset`` can have no rows), compiled without
    the ORM's full compiler when its shape allows (``select_sql``), ordered by the distance
    (which the HNSW index serves): ``columns``, then the distance. ``queryset`` must have no
    ordering (``order_by()``).
    """
    quote = connections[alias].ops.quote_name
    meta = queryset.model._meta
    embedding = f"{quote(meta.db_table)}.{quote(meta.get_field('embedding').column)}"
    try:
        if isinstance(vector, models.QuerySet):
            # The stored vector, read by the statement itself (a subquery on the same table
            # names its own columns: the inner table is the nearer one).
            target, target_params = select_sql(vector, ["embedding"], alias)
            distance = (f"{embedding} <=> ({target})", target_params)
        else:
            # As text (a hashable parameter, which Django's full compilation needs).
            distance = (f"{embedding} <=> %s::vector", [Vector(vector).to_text()])
        return select_sql(
            queryset.using(alias)[:k], columns, alias, extra=distance, order_by_extra=True
        )
    except EmptyResultSet:
        return None


def similar_rows(
    *,
    queryset: models.QuerySet,
    vector: Sequence[float] | models.QuerySet,
    k: int,
) -> list[TenantModel]:
    """The ``k`` rows of ``queryset`` nearest to ``vector`` by cosine distance (``.distance`` set).

    ``vector`` may be a queryset of one stored embedding (``.values("embedding")``): the search
    reads it itself, so the vector never travels to the application and back, and it raises
    ``NoVector`` when there is none. ``queryset`` must already be scoped to one client and to
    active rows.
    """
    return _similar(queryset, vector, k, None)


def similar_values(
    *,
    queryset: models.QuerySet,
    vector: Sequence[float] | models.QuerySet,
    k: int,
    columns: Sequence[str],
) -> list[tuple]:
    """``similar_rows()`` as rows of values: ``columns`` (attnames; the primary key among them)
    and the distance last, in the same order, with no model instances.
    """
    return _similar(queryset, vector, k, columns)


def _similar(queryset, vector, k: int, columns: Sequence[str] | None) -> list:
    if not isinstance(vector, models.QuerySet) and not any(vector):
        return []
    queryset = queryset.filter(embedding__isnull=False).order_by()
    with ml_session() as alias:
        # A standby that fails under the search is given up on, and the request re-run
        # elsewhere (core.db.failover).
        return _search(alias, queryset, vector, k, columns)
