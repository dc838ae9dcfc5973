"""Issues (Jira) of a client, with workflow metrics computed by the ETL."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.changes import row_stamp_trigger, tenant_sync_index
from core.counts import count_triggers
from core.fields import embedding_field, embedding_index
from core.models import TenantModel, tenant_list_index
from projects.models import Project


class Issue(TenantModel):
    """An issue; its key is unique among the client's active issues."""

    key = models.CharField(max_length=50)
    summary = models.CharField(max_length=1000)
    description = models.TextField(blank=True, null=True)
    priority = models.CharField(max_length=50, blank=True, null=True)
    status_name = models.CharField(max_length=100, blank=True, null=True)
    issuetype_name = models.CharField(max_length=100, blank=True, null=True)
    assignee = models.CharField(max_length=255, blank=True, null=True)
    reporter = models.CharField(max_length=255, blank=True, null=True)
    story_points = models.FloatField(blank=True, null=True)
    epic_link = models.CharField(max_length=50, blank=True, null=True)
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="issues"
    )
    status_id = models.CharField(max_length=50, blank=True, null=True)
    issuetype_id = models.CharField(max_length=50, blank=True, null=True)
    labels = ArrayField(models.CharField(max_length=100), default=list, db_default=[], blank=True)
    team = models.CharField(max_length=255, blank=True, null=True)
    created = models.DateTimeField(blank=True, null=True, help_text="Created at the source.")
    updated = models.DateTimeField(blank=True, null=True, help_text="Updated at the source.")
    # Workflow metrics, written by the ETL.
    work_first_started_at = models.DateTimeField(blank=True, null=True)
    work_first_completed_at = models.DateTimeField(blank=True, null=True)
    work_last_started_at = models.DateTimeField(blank=True, null=True)
    work_last_completed_at = models.DateTimeField(blank=True, null=True)
    total_cycle_time_seconds = models.BigIntegerField(blank=True, null=True)
    total_lead_time_seconds = models.BigIntegerField(blank=True, null=True)
    workflow_cycle_count = models.IntegerField(blank=True, null=True)
    embedding = embedding_field()

    class Meta:
        db_table = "issues"
        # Plain lists read total_count from the per-client counter these keep (core.counts).
        triggers = [*count_triggers(), row_stamp_trigger()]
        ordering = ["-created_at", "-id"]
        indexes = [
            tenant_sync_index("issues"),
            tenant_list_index("issues"),
            models.Index(fields=["client", "project"], name="issues_project_idx"),
            models.Index(fields=["client", "status_name"], name="issues_status_idx"),
            models.Index(fields=["client", "priority"], name="issues_priority_idx"),
            models.Index(fields=["client", "issuetype_name"], name="issues_type_idx"),
            models.Index(fields=["client", "assignee"], name="issues_assignee_idx"),
            embedding_index("issues"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"],
                condition=models.Q(active=True),
                name="issues_key_unique_per_client",
                violation_error_message="An issue with this key already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(story_points__gte=0) | models.Q(story_points__isnull=True),
                name="issues_story_points_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.key
