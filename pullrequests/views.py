"""Pull request endpoints."""

from core.api.bulk import BulkUpsertMixin
from core.api.similarity import SimilarityMixin
from core.api.viewsets import TenantViewSet
from pullrequests.filters import PullRequestFilter
from pullrequests.models import PullRequest
from pullrequests.serializers import PullRequestSerializer


class PullRequestViewSet(SimilarityMixin, BulkUpsertMixin, TenantViewSet):
    """Pull requests of the caller's client."""

    queryset = PullRequest.objects.all()
    serializer_class = PullRequestSerializer
    filterset_class = PullRequestFilter
    list_key = "pull_requests"
    ordering_fields = (
        "created_at", "last_updated_at", "id", "number", "repository", "pr_created_at", "merged_at",
    )  # fmt: skip
