"""What core derives from the domain's own declarations, never from lists kept by hand.

- **Tenant models**: concrete subclasses of ``core.models.TenantModel``.
- **Counted models**: those that declare the row-count triggers in their ``Meta.triggers``
  (``core.counts.count_triggers()``); their plain lists read ``total_count`` from the counter.
- **Vector models**: those with an ``embedding`` pgvector column (``core.fields.embedding_field``);
  health counts and checks their embeddings, and the bench loads them.

A new app declares its model (and, if counted, its triggers); counts, health, the similarity
endpoints and the bench pick it up, and a test compares these lists with the database's catalog.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from pgvector.django import VectorField

from core.fields import EMBEDDING_COLUMN


def tenant_models() -> list[type[models.Model]]:
    from core.models import TenantModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and not model._meta.proxy
    ]


def counted_models() -> list[type[models.Model]]:
    from core.counts import COUNT_TRIGGER_PREFIX

    return [
        model
        for model in tenant_models()
        if any(
            trigger.name.startswith(COUNT_TRIGGER_PREFIX)
            for trigger in getattr(model._meta, "triggers", ())
        )
    ]


def _has_vector(model: type[models.Model]) -> bool:
    try:
        return isinstance(model._meta.get_field(EMBEDDING_COLUMN), VectorField)
    except FieldDoesNotExist:
        return False


def vector_models() -> list[type[models.Model]]:
    return [model for model in tenant_models() if _has_vector(model)]


# The models are fixed once the apps are loaded: the table lists are computed once.
@functools.cache
def counted_tables() -> frozenset[str]:
    return frozenset(model._meta.db_table for model in counted_models())


@functools.cache
def vector_tables() -> tuple[str, ...]:
    return tuple(sorted(model._meta.db_table for model in vector_models()))
