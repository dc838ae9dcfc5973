"""Writes shared by every tenant-owned model."""

from __future__ import annotations

import logging

from django.db import transaction

from core.models import TenantModel

logger = logging.getLogger(__name__)


@transaction.atomic
def tenant_row_soft_delete(*, row: TenantModel, by) -> None:
    """Soft-delete ``row``: it disappears from the API (404, absent from lists) but stays stored."""
    row.active = False
    row.save(update_fields=["active", "last_updated_at"])
    logger.info("%s %s soft-deleted by user %s", row._meta.label, row.pk, getattr(by, "pk", None))
