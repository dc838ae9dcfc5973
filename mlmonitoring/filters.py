"""List filters of the ML monitoring endpoints."""

from __future__ import annotations

import django_filters

from core.api.filters import (
    StrictBooleanFilter,
    StrictChoiceFilter,
    TenantFilterSet,
    TimestampFilter,
)
from mlmonitoring.models import (
    AlertSeverity,
    AnomalyAlert,
    LearningMemory,
    PredictionLog,
    PredictionSeverity,
)


class MlFilterSet(TenantFilterSet):
    """Every ML list: ``created_after``/``created_before``, when the row was recorded (the same
    as ``created_at_after``/``created_at_before``)."""

    created_after = TimestampFilter("created_at", "after")
    created_before = TimestampFilter("created_at", "before")


class LearningMemoryFilter(MlFilterSet):
    """``error_type`` (exact)."""

    error_type = django_filters.CharFilter(max_length=50)

    class Meta:
        model = LearningMemory
        fields = ()


class PredictionLogFilter(MlFilterSet):
    """``model_name`` (exact), ``severity`` and ``is_anomaly``."""

    model_name = django_filters.CharFilter(max_length=100)
    severity = StrictChoiceFilter(choices=PredictionSeverity.choices)
    is_anomaly = StrictBooleanFilter()

    class Meta:
        model = PredictionLog
        fields = ()


class AnomalyAlertFilter(MlFilterSet):
    """``acknowledged``, ``severity`` and ``model_name`` (exact)."""

    acknowledged = StrictBooleanFilter()
    severity = StrictChoiceFilter(choices=AlertSeverity.choices)
    model_name = django_filters.CharFilter(max_length=100)

    class Meta:
        model = AnomalyAlert
        fields = ()
