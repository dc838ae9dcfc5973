"""The database itself refuses out-of-range ML rows, whoever writes them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from mlmonitoring.tests.factories import (
    AnomalyAlertFactory,
    LearningMemoryFactory,
    PredictionLogFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("confidence", [-0.01, 1.01, float("nan")])
def test_confidence_outside_0_1_is_refused(tenant_a, confidence):
    with (
        pytest.raises(IntegrityError, match="ai_learning_memory_confidence_0_1"),
        transaction.atomic(),
    ):
        LearningMemoryFactory(client=tenant_a, confidence=confidence)
    assert not LearningMemory.objects.exists()


@pytest.mark.parametrize("confidence", [0.0, 1.0])
def test_confidence_bounds_are_allowed(tenant_a, confidence):
    assert LearningMemoryFactory(client=tenant_a, confidence=confidence).pk


def test_prediction_severity_outside_the_list_is_refused(tenant_a):
    with (
        pytest.raises(IntegrityError, match="ml_prediction_log_severity_valid"),
        transaction.atomic(),
    ):
        PredictionLogFactory(client=tenant_a, severity="high")
    assert not PredictionLog.objects.exists()


def test_alert_severity_outside_the_list_is_refused(tenant_a):
    with (
        pytest.raises(IntegrityError, match="ml_anomaly_alerts_severity_valid"),
        transaction.atomic(),
    ):
        AnomalyAlertFactory(client=tenant_a, severity="normal")
    assert not AnomalyAlert.objects.exists()


def test_a_pipeline_writing_plain_sql_gets_the_column_defaults(tenant_a):
    """The ML pipeline inserts rows itself: the defaults live in the database, not only in Django."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ml_prediction_log (client_id, created_at, last_updated_at, model_name,"
            " prediction_value, input_features) VALUES (%s, now(), now(), 'm', 1.5, '{}')"
            " RETURNING active, is_anomaly, severity",
            [tenant_a.pk],
        )
        assert cursor.fetchone() == (True, False, "normal")
