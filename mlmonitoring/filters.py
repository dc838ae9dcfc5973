"""List filters of the ML monitoring endpoints."""

from __future__ import annotations

import django_filters
from django import forms

from mlmonitoring.models import (
    AlertSeverity,
    AnomalyAlert,
    LearningMemory,
    PredictionLog,
    PredictionSeverity,
)

TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})


class StrictBooleanFormField(forms.Field):
    """``true``/``false`` (or 1/0, yes/no, on/off); anything else is an error, not "no filter"."""

    default_error_messages = {"invalid": "Expected true or false, got %(value)r."}

    def to_python(self, value: str | None) -> bool | None:
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in TRUE_VALUES:
            return True
        if lowered in FALSE_VALUES:
            return False
        raise forms.ValidationError(
            self.error_messages["invalid"], code="invalid", params={"value": value}
        )


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean filter that rejects ``?acknowledged=maybe`` (django-filter's own ignores it)."""

    field_class = StrictBooleanFormField

    def __init__(self, *args, **kwargs) -> None:
        # The default widget maps unknown strings to None before the field sees them.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class LearningMemoryFilter(django_filters.FilterSet):
    """``error_type`` (exact)."""

    error_type = django_filters.CharFilter(max_length=50)

    class Meta:
        model = LearningMemory
        fields = ()


class PredictionLogFilter(django_filters.FilterSet):
    """``model_name`` (exact), ``severity`` and ``is_anomaly``."""

    model_name = django_filters.CharFilter(max_length=100)
    severity = django_filters.ChoiceFilter(choices=PredictionSeverity.choices)
    is_anomaly = StrictBooleanFilter()

    class Meta:
        model = PredictionLog
        fields = ()


class AnomalyAlertFilter(django_filters.FilterSet):
    """``acknowledged``, ``severity`` and ``model_name`` (exact)."""

    acknowledged = StrictBooleanFilter()
    severity = django_filters.ChoiceFilter(choices=AlertSeverity.choices)
    model_name = django_filters.CharFilter(max_length=100)

    class Meta:
        model = AnomalyAlert
        fields = ()
