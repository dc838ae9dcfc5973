"""Issue endpoints."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.bulk import BulkUpsertMixin
from core.api.similarity import SimilarityMixin
from core.api.viewsets import TenantViewSet
from issues.filters import IssueFilter
from issues.models import Issue
from issues.selectors import issue_stats
from issues.serializers import IssueSerializer, IssueStatsSerializer


class IssueViewSet(SimilarityMixin, BulkUpsertMixin, TenantViewSet):
    """Issues of the caller's client."""

    queryset = Issue.objects.all()
    serializer_class = IssueSerializer
    filterset_class = IssueFilter
    list_key = "issues"
    ordering_fields = (
        "created_at", "last_updated_at", "id", "key", "priority", "status_name",
        "story_points", "created", "updated",
    )  # fmt: skip

    @extend_schema(responses=IssueStatsSerializer)
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def stats(self, request):
        """Counts of the caller's issues by status and by priority."""
        return Response(issue_stats(client_id=self.scope.client_id))
