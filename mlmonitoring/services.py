"""Writes on the ML monitoring tables (the API never writes them; operators acknowledge alerts)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from mlmonitoring.models import AnomalyAlert
from users.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def anomaly_alert_acknowledge(*, alerts: QuerySet[AnomalyAlert], by: User) -> int:
    """Mark ``alerts`` acknowledged by ``by``, now; returns how many changed.

    Alerts acknowledged before keep who acknowledged them and when. The update runs on the
    primary even when ``alerts`` was read from a standby: the ids are taken first, then
    updated through the router's write alias.
    """
    ids = list(alerts.values_list("pk", flat=True))
    now = timezone.now()
    changed = AnomalyAlert.objects.filter(pk__in=ids, acknowledged=False).update(
        acknowledged=True, acknowledged_by=by, acknowledged_at=now, last_updated_at=now
    )
    logger.info("%s anomaly alert(s) acknowledged by user %s", changed, by.pk)
    return changed
