"""Django admin for issues."""

from django.contrib import admin

from issues.models import Issue
from issues.serializers import WORKFLOW_METRICS


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    """Issues of every client; the ETL's workflow metrics are shown, not edited."""

    list_display = (
        "key", "summary", "status_name", "priority", "issuetype_name", "assignee", "project",
        "client", "active",
    )  # fmt: skip
    list_filter = ("status_name", "priority", "issuetype_name", "active", "client")
    list_select_related = ("client", "project")
    search_fields = ("key", "summary", "assignee", "reporter")
    raw_id_fields = ("project",)
    # Embeddings are written through their own endpoint, not typed into a form.
    exclude = ("embedding",)
    readonly_fields = ("created_at", "last_updated_at", *WORKFLOW_METRICS)
