"""The plain DRF baseline: what a straightforward DRF endpoint over the same model costs.

ModelViewSet + ModelSerializer + LimitOffsetPagination and DRF's own JSON renderer, scoped to the
caller's client like the real endpoint (same authentication, same router, same rows).
"""

from rest_framework import serializers, viewsets
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer

from issues.models import Issue
from issues.serializers import IssueSerializer


class BaselineIssueSerializer(serializers.ModelSerializer):
    """The issue fields of the real serializer, as a stock ModelSerializer."""

    class Meta:
        model = Issue
        fields = tuple(name for name in IssueSerializer.Meta.fields if name != "embedding")


class BaselinePagination(LimitOffsetPagination):
    """DRF's limit/offset pagination with the project's default page size."""

    default_limit = 100
    max_limit = 1000


class BaselineIssueViewSet(viewsets.ModelViewSet):
    """Issues of the caller's client, the stock DRF way."""

    serializer_class = BaselineIssueSerializer
    pagination_class = BaselinePagination
    renderer_classes = (JSONRenderer,)

    def get_queryset(self):
        return Issue.objects.filter(client_id=self.request.user.client_id, active=True).defer(
            "embedding"
        )
