"""ML monitoring endpoints: read-only, admins only, answered by the ``ml`` session.

The router sends every read of this app to the ``ml`` alias; the views need not ask for it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import BooleanFilter
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.permissions import AdminRolePermission
from core.api.schema import ApiAutoSchema
from core.api.viewsets import TenantReadOnlyViewSet
from mlmonitoring.filters import AnomalyAlertFilter, LearningMemoryFilter, PredictionLogFilter
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from mlmonitoring.serializers import (
    AnomalyAlertSerializer,
    LearningMemorySerializer,
    PredictionLogSerializer,
)

ML_FIELDS_PARAMETER = "include_ml_fields"


class MlEnvelopePagination:
    """Pagination mixin: no ``ml_fields_included`` (these rows have none), plus the echoed filter.

    ``echoed_filter`` and ``echoed_filter_type`` are set per viewset; the value itself comes
    from the view's ``list_envelope_extra()``.
    """

    echoed_filter: str | None = None
    echoed_filter_type = "string"

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        del response.data["ml_fields_included"]
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        envelope = super().get_paginated_response_schema(schema)
        del envelope["properties"]["ml_fields_included"]
        if self.echoed_filter:
            key = f"{self.echoed_filter}_filter"
            envelope["required"].append(key)
            envelope["properties"][key] = {
                "type": self.echoed_filter_type,
                "nullable": True,
                "description": f"The value of the {self.echoed_filter} filter, or null.",
            }
        return envelope


class MlMonitoringSchema(ApiAutoSchema):
    """The shared parameters and errors, less ``include_ml_fields``.

    Every tenant endpoint accepts the flag (so a client that always sends it keeps working),
    but it changes nothing here: these rows have no ML fields, so it is not advertised.
    """

    def get_override_parameters(self) -> list:
        return [
            parameter
            for parameter in super().get_override_parameters()
            if getattr(parameter, "name", None) != ML_FIELDS_PARAMETER
        ]


class MlMonitoringViewSet(TenantReadOnlyViewSet):
    """A read-only ML table for tenant admins; the list echoes its main filter (``<name>_filter``)."""

    permission_classes = (IsAuthenticated, AdminRolePermission)
    default_limit = 50
    max_limit = 100
    schema = MlMonitoringSchema()
    echoed_filter: str

    def __init_subclass__(cls, **kwargs) -> None:
        # The base class builds a pagination class per subclass; layer the mixin onto that one.
        super().__init_subclass__(**kwargs)
        echoed = getattr(cls, "echoed_filter", None)
        filterset = getattr(cls, "filterset_class", None)
        boolean = echoed and isinstance(filterset.base_filters[echoed], BooleanFilter)
        cls.pagination_class = type(
            cls.pagination_class.__name__,
            (MlEnvelopePagination, cls.pagination_class),
            {"echoed_filter": echoed, "echoed_filter_type": "boolean" if boolean else "string"},
        )

    def get_queryset(self) -> QuerySet:
        # The base defers ``embedding`` unless ML fields were asked for; these models have no
        # such column, so clear the deferral rather than let the query name a missing field.
        return super().get_queryset().defer(None)

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
