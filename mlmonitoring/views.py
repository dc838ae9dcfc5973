"""ML monitoring endpoints: read-only, admins only, answered by the ``ml`` session.

The router sends every read of this app to the ``ml`` alias; the views need not ask for it.
"""

from __future__ import annotations

from django_filters import BooleanFilter
from rest_framework.permissions import IsAuthenticated

from core.api.permissions import AdminRolePermission
from core.api.viewsets import TenantReadOnlyViewSet
from mlmonitoring.filters import AnomalyAlertFilter, LearningMemoryFilter, PredictionLogFilter
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from mlmonitoring.serializers import (
    AnomalyAlertSerializer,
    LearningMemorySerializer,
    PredictionLogSerializer,
)


class MlMonitoringViewSet(TenantReadOnlyViewSet):
    """A read-only ML table for tenant admins; the list echoes its main filter (``<name>_filter``)."""

    permission_classes = (IsAuthenticated, AdminRolePermission)
    default_limit = 50
    max_limit = 100
    echoed_filter: str

    @classmethod
    def list_envelope_extra_schema(cls) -> dict:
        echoed = getattr(cls, "echoed_filter", None)
        if echoed is None:
            return {}
        boolean = isinstance(cls.filterset_class.base_filters[echoed], BooleanFilter)
        return {
            f"{echoed}_filter": {
                "type": "boolean" if boolean else "string",
                "nullable": True,
                "description": f"The value of the {echoed} filter, or null.",
            }
        }

    def list_envelope_extra(self) -> dict:
        """``<filter>_filter``: the value the list was filtered by (typed), or null."""
        form = self.filterset_class(data=self.request.query_params).form
        # The filter backend has already validated these parameters (a bad one was a 400).
        value = form.cleaned_data.get(self.echoed_filter) if form.is_valid() else None
        return {f"{self.echoed_filter}_filter": None if value == "" else value}


class LearningMemoryViewSet(MlMonitoringViewSet):
    """What the query translator learnt from the queries it got wrong, newest first."""

    queryset = LearningMemory.objects.all()
    serializer_class = LearningMemorySerializer
    filterset_class = LearningMemoryFilter
    list_key = "learning_memories"
    echoed_filter = "error_type"


class PredictionLogViewSet(MlMonitoringViewSet):
    """Predictions the ML models made, newest first."""

    queryset = PredictionLog.objects.all()
    serializer_class = PredictionLogSerializer
    filterset_class = PredictionLogFilter
    list_key = "prediction_logs"
    echoed_filter = "model_name"


class AnomalyAlertViewSet(MlMonitoringViewSet):
    """Anomalies the ML models raised, newest first."""

    queryset = AnomalyAlert.objects.all()
    serializer_class = AnomalyAlertSerializer
    filterset_class = AnomalyAlertFilter
    list_key = "anomaly_alerts"
    echoed_filter = "acknowledged"
