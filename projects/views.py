"""Project endpoints."""

from core.api.bulk import BulkUpsertMixin
from core.api.similarity import SimilarityMixin
from core.api.viewsets import TenantViewSet
from projects.filters import ProjectFilter
from projects.models import Project
from projects.serializers import ProjectSerializer


class ProjectViewSet(SimilarityMixin, BulkUpsertMixin, TenantViewSet):
    """Projects of the caller's client."""

    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    list_key = "projects"
    ordering_fields = ("created_at", "last_updated_at", "id", "key", "name")
