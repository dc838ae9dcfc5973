"""Representation of the ML monitoring rows (read-only)."""

from __future__ import annotations

import math

from rest_framework import serializers

from core.api.serializers import TENANT_READ_ONLY_FIELDS
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog

# ``last_updated_at`` is the name every endpoint of this API uses; ``updated_at`` is the name
# in the original ML schema, which the clients of the original service read. Both are served.
TIMESTAMP_FIELDS = (*TENANT_READ_ONLY_FIELDS, "updated_at")


class FiniteFloatField(serializers.FloatField):
    """A float column that may hold NaN or infinity (a model's raw output): those become null.

    Strict JSON has no NaN, and a monitoring log must still render the row that recorded one.
    """

    def to_representation(self, value) -> float | None:
        number = super().to_representation(value)
        return number if math.isfinite(number) else None


class MlRowSerializer(serializers.ModelSerializer):
    """Fields every ML monitoring row has: id, client_id, active and the timestamps."""

    client_id = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(
        source="last_updated_at", read_only=True, help_text="Same as last_updated_at."
    )


class LearningMemorySerializer(MlRowSerializer):
    """A learning memory entry."""

    class Meta:
        model = LearningMemory
        fields = (
            *TIMESTAMP_FIELDS,
            "error_type",
            "user_intent",
            "failed_query",
            "specific_issue",
            "suggested_fix",
            "confidence",
            "learning_context",
        )
        read_only_fields = fields


class PredictionLogSerializer(MlRowSerializer):
    """A logged prediction."""

    prediction_value = FiniteFloatField(read_only=True, allow_null=True)
    anomaly_score = FiniteFloatField(read_only=True, allow_null=True)

    class Meta:
        model = PredictionLog
        fields = (
            *TIMESTAMP_FIELDS,
            "model_name",
            "prediction_value",
            "input_features",
            "anomaly_score",
            "is_anomaly",
            "severity",
            "response_time_ms",
        )
        read_only_fields = fields


class AnomalyAlertSerializer(MlRowSerializer):
    """An anomaly alert; ``acknowledged_by`` is the acknowledging user's id."""

    class Meta:
        model = AnomalyAlert
        fields = (
            *TIMESTAMP_FIELDS,
            "model_name",
            "severity",
            "alert_data",
            "acknowledged",
            "acknowledged_by",
            "acknowledged_at",
        )
        read_only_fields = fields
