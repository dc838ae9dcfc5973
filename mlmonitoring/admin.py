"""Django admin for the ML monitoring tables: read-only, except acknowledging alerts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.utils.text import Truncator

from core.admin import ReadOnlyAdmin
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from mlmonitoring.services import anomaly_alert_acknowledge


class MlTableAdmin(ReadOnlyAdmin):
    """The ML pipeline owns these rows: operators look, never add, edit or delete."""

    date_hierarchy = "created_at"
    list_select_related = ("client",)
    list_per_page = 50


@admin.register(LearningMemory)
class LearningMemoryAdmin(MlTableAdmin):
    """Learning memory entries."""

    list_display = ("id", "created_at", "client", "error_type", "intent", "confidence", "active")
    list_filter = ("error_type", "active", "client")
    search_fields = ("error_type", "user_intent", "failed_query", "specific_issue")

    @admin.display(description="user intent")
    def intent(self, obj: LearningMemory) -> str:
        return Truncator(obj.user_intent).chars(80)


@admin.register(PredictionLog)
class PredictionLogAdmin(MlTableAdmin):
    """Prediction logs."""

    list_display = (
        "id", "created_at", "client", "model_name", "prediction_value", "anomaly_score",
        "is_anomaly", "severity", "response_time_ms",
    )  # fmt: skip
    list_filter = ("severity", "is_anomaly", "model_name", "active", "client")
    search_fields = ("model_name",)


@admin.register(AnomalyAlert)
class AnomalyAlertAdmin(MlTableAdmin):
    """Anomaly alerts; the one write allowed is acknowledging them."""

    list_display = (
        "id", "created_at", "client", "model_name", "severity", "acknowledged",
        "acknowledged_by", "acknowledged_at",
    )  # fmt: skip
    list_filter = ("severity", "acknowledged", "model_name", "active", "client")
    list_select_related = ("client", "acknowledged_by")
    search_fields = ("model_name",)
    actions = ("acknowledge",)

    @admin.action(description="Acknowledge selected alerts", permissions=("acknowledge",))
    def acknowledge(self, request, queryset) -> None:
        selected = queryset.count()
        changed = anomaly_alert_acknowledge(alerts=queryset, by=request.user)
        message = f"Acknowledged {changed} alert(s)."
        if changed < selected:
            message += (
                f" {selected - changed} had been acknowledged before and were left as they were."
            )
        self.message_user(request, message, messages.SUCCESS)

    def has_acknowledge_permission(self, request) -> bool:
        # Django's own "change" permission on alerts grants acknowledging (superusers have it);
        # the admin's has_change_permission stays False so that no field can be edited.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")
