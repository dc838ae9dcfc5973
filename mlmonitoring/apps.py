"""ML monitoring tables: learning memory, prediction logs, anomaly alerts."""

from django.apps import AppConfig


class MlMonitoringConfig(AppConfig):
    """ML monitoring app."""

    name = "mlmonitoring"
    verbose_name = "ML monitoring"
