"""List filters of the ML monitoring endpoints."""

from __future__ import annotations

import django_filters

from core.api.filters import StrictBooleanFilter, StrictChoiceFilter
from mlmonitoring.models import (
    AlertSeverity,
    AnomalyAlert,
    LearningMemory,
    PredictionLog,
    PredictionSeverity,
)


class LearningMemoryFilter(django_filters.FilterSet):
    """``error_type`` (exact)."""

    error_type = django_filters.CharFilter(max_length=50)

    class Meta:
        model = LearningMemory
        fields = ()


class PredictionLogFilter(django_filters.FilterSet):
    """``model_name`` (exact), ``severity`` and ``is_anomaly``."""

    model_name = django_filters.CharFilter(max_length=100)
    severity = StrictChoiceFilter(choices=PredictionSeverity.choices)
    is_anomaly = StrictBooleanFilter()

    class Meta:
        model = PredictionLog
        fields = ()


class AnomalyAlertFilter(django_filters.FilterSet):
    """``acknowledged``, ``severity`` and ``model_name`` (exact)."""

    acknowledged = StrictBooleanFilter()
    severity = StrictChoiceFilter(choices=AlertSeverity.choices)
    model_name = django_filters.CharFilter(max_length=100)

    class Meta:
        model = AnomalyAlert
        fields = ()
