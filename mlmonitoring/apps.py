"""ML monitoring tables: learning memory, prediction logs, anomaly alerts."""

from django.apps import AppConfig


class MlMonitoringConfig(AppConfig):
    """ML monitoring app."""

    name = "mlmonitoring"
    verbose_name = "ML monitoring"
    # Routed under /api/ by config/api_urls.py: (prefix, viewset, basename).
    api_routes = (
        ("ml/learning-memory", "mlmonitoring.views.LearningMemoryViewSet", "ml-learning-memory"),
        ("ml/prediction-logs", "mlmonitoring.views.PredictionLogViewSet", "ml-prediction-log"),
        ("ml/anomaly-alerts", "mlmonitoring.views.AnomalyAlertViewSet", "ml-anomaly-alert"),
    )
