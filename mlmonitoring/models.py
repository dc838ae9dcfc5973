"""ML monitoring tables, written by the ML pipeline and read by admins: learning memory,
prediction logs and anomaly alerts.

The table and column names are those of the original schema, so the pipeline that writes
them keeps working. Reads of this app go to the ``ml`` alias (``core.db.router``).
"""

from django.conf import settings
from django.db import models

from core.changes import row_stamp_trigger, tenant_sync_index
from core.models import TenantModel, tenant_list_index


class PredictionSeverity(models.TextChoices):
    """How unusual a prediction was."""

    NORMAL = "normal", "Normal"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertSeverity(models.TextChoices):
    """How urgent an anomaly alert is."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class LearningMemory(TenantModel):
    """A question translated into a wrong query: what went wrong, and how to do it right next time."""

    error_type = models.CharField(max_length=50)
    user_intent = models.TextField()
    failed_query = models.TextField()
    specific_issue = models.TextField()
    suggested_fix = models.TextField(blank=True, null=True)
    confidence = models.FloatField(default=0.5, db_default=0.5, help_text="0 to 1.")
    learning_context = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        db_table = "ai_learning_memory"
        ordering = ["-created_at", "-id"]
        verbose_name = "learning memory"
        verbose_name_plural = "learning memories"
        triggers = [row_stamp_trigger()]
        indexes = [
            tenant_list_index("ai_learning_memory"),
            tenant_sync_index("ai_learning_memory"),
            models.Index(fields=["client", "error_type"], name="ai_learning_memory_error_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0, confidence__lte=1),
                name="ai_learning_memory_confidence_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.error_type} #{self.pk}"


class PredictionLog(TenantModel):
    """One prediction a model made, with its inputs, anomaly score and latency."""

    model_name = models.CharField(max_length=100)
    prediction_value = models.FloatField()
    input_features = models.JSONField(default=dict, db_default={}, blank=True)
    anomaly_score = models.FloatField(blank=True, null=True)
    is_anomaly = models.BooleanField(default=False, db_default=False)
    severity = models.CharField(
        max_length=10,
        choices=PredictionSeverity.choices,
        default=PredictionSeverity.NORMAL,
        db_default=PredictionSeverity.NORMAL,
    )
    response_time_ms = models.IntegerField(blank=True, null=True)

    class Meta:
        db_table = "ml_prediction_log"
        ordering = ["-created_at", "-id"]
        triggers = [row_stamp_trigger()]
        indexes = [
            tenant_list_index("ml_prediction_log"),
            tenant_sync_index("ml_prediction_log"),
            models.Index(fields=["client", "model_name"], name="ml_prediction_log_model_idx"),
            models.Index(fields=["client", "severity"], name="ml_prediction_log_sev_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__in=PredictionSeverity.values),
                name="ml_prediction_log_severity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(response_time_ms__gte=0)
                | models.Q(response_time_ms__isnull=True),
                name="ml_prediction_log_response_time_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} #{self.pk}"


class AnomalyAlert(TenantModel):
    """An anomaly a model raised; an operator acknowledges it once looked at."""

    model_name = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    alert_data = models.JSONField(default=dict, db_default={}, blank=True)
    acknowledged = models.BooleanField(default=False, db_default=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(blank=True, null=True)

    class Meta:
        db_table = "ml_anomaly_alerts"
        ordering = ["-created_at", "-id"]
        triggers = [row_stamp_trigger()]
        indexes = [
            tenant_list_index("ml_anomaly_alerts"),
            tenant_sync_index("ml_anomaly_alerts"),
            models.Index(fields=["client", "acknowledged"], name="ml_anomaly_alerts_ack_idx"),
            models.Index(fields=["client", "model_name"], name="ml_anomaly_alerts_model_idx"),
            models.Index(fields=["client", "severity"], name="ml_anomaly_alerts_sev_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__in=AlertSeverity.values),
                name="ml_anomaly_alerts_severity_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.severity} alert on {self.model_name} #{self.pk}"
