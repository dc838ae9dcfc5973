"""Issue representation."""

from rest_framework import serializers

from core.api.grammar import StrictFloatField
from core.api.serializers import TENANT_READ_ONLY_FIELDS, TenantModelSerializer, TenantRelatedField
from issues.models import Issue
from projects.models import Project

WORKFLOW_METRICS = (
    "work_first_started_at",
    "work_first_completed_at",
    "work_last_started_at",
    "work_last_completed_at",
    "total_cycle_time_seconds",
    "total_lead_time_seconds",
    "workflow_cycle_count",
)


class IssueSerializer(TenantModelSerializer):
    """An issue; ``project_id`` must be a project of the caller's client."""

    # Lists are built from plain rows (core.api.rows); a system check holds this class to it.
    list_from_rows = True

    project_id = TenantRelatedField(
        source="project", queryset=Project.objects.all(), required=False, allow_null=True
    )
    story_points = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=1e6)

    class Meta:
        model = Issue
        fields = (
            *TENANT_READ_ONLY_FIELDS,
            "key",
            "summary",
            "description",
            "priority",
            "status_name",
            "issuetype_name",
            "assignee",
            "reporter",
            "story_points",
            "epic_link",
            "project_id",
            "status_id",
            "issuetype_id",
            "labels",
            "team",
            "created",
            "updated",
            *WORKFLOW_METRICS,
            "embedding",
        )
        read_only_fields = (*TENANT_READ_ONLY_FIELDS, *WORKFLOW_METRICS)


class IssueStatsSerializer(serializers.Serializer):
    """Counts of the caller's active issues by status and by priority."""

    total = serializers.IntegerField()
    by_status_name = serializers.DictField(child=serializers.IntegerField())
    by_priority = serializers.DictField(child=serializers.IntegerField())
