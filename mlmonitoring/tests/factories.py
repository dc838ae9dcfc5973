"""Factories for the ML monitoring tables."""

import factory

from core.tests.factories import ClientFactory
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog


class LearningMemoryFactory(factory.django.DjangoModelFactory):
    """A learning memory entry of a client."""

    class Meta:
        model = LearningMemory

    client = factory.SubFactory(ClientFactory)
    error_type = factory.Iterator(["wrong_table", "sql_syntax", "missing_filter"])
    user_intent = "Average cycle time of the platform team last sprint"
    failed_query = "SELECT avg(cycle_time) FROM issue WHERE team = 'platform'"
    specific_issue = 'relation "issue" does not exist'
    suggested_fix = "Use the issues table and total_cycle_time_seconds."
    confidence = 0.8
    learning_context = factory.LazyFunction(lambda: {"tables": ["issues"], "attempt": 2})


class PredictionLogFactory(factory.django.DjangoModelFactory):
    """A logged prediction of a client."""

    class Meta:
        model = PredictionLog

    client = factory.SubFactory(ClientFactory)
    model_name = "cycle_time_predictor"
    prediction_value = 42.5
    input_features = factory.LazyFunction(lambda: {"story_points": 5, "team": "platform"})
    anomaly_score = 0.12
    is_anomaly = False
    severity = "normal"
    response_time_ms = 37


class AnomalyAlertFactory(factory.django.DjangoModelFactory):
    """An unacknowledged anomaly alert of a client."""

    class Meta:
        model = AnomalyAlert

    client = factory.SubFactory(ClientFactory)
    model_name = "cycle_time_predictor"
    severity = "high"
    alert_data = factory.LazyFunction(
        lambda: {"metric": "cycle_time_hours", "observed": 310.0, "expected_max": 120.0}
    )
