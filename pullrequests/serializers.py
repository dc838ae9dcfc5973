"""Pull request representation."""

from core.api.serializers import TENANT_READ_ONLY_FIELDS, TenantModelSerializer, TenantRelatedField
from issues.models import Issue
from pullrequests.models import PullRequest


class PullRequestSerializer(TenantModelSerializer):
    """A pull request; ``issue_id`` must be an issue of the caller's client."""

    # Lists are built from plain rows (core.api.rows); a system check holds this class to it.
    list_from_rows = True

    issue_id = TenantRelatedField(
        source="issue", queryset=Issue.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = PullRequest
        fields = (
            *TENANT_READ_ONLY_FIELDS,
            "external_id",
            "repository",
            "number",
            "name",
            "user_name",
            "body",
            "status",
            "url",
            "source",
            "destination",
            "issue_id",
            "commit_count",
            "additions",
            "deletions",
            "changed_files",
            "review_cycles",
            "rework_commit_count",
            "pr_created_at",
            "first_review_at",
            "merged_at",
            "closed_at",
            "embedding",
        )
        read_only_fields = TENANT_READ_ONLY_FIELDS
