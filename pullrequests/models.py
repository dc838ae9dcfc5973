"""Pull requests (GitHub and the like) of a client, optionally linked to an issue."""

from django.db import models

from core.changes import row_stamp_trigger, tenant_sync_index
from core.counts import count_triggers
from core.fields import embedding_field, embedding_index
from core.models import TenantModel, tenant_list_index
from issues.models import Issue


class PullRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    MERGED = "merged", "Merged"


class PullRequest(TenantModel):
    """A pull request of a repository ("org/name")."""

    external_id = models.CharField(max_length=100, blank=True, null=True)
    repository = models.CharField(max_length=255)
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=1000, help_text="Title.")
    user_name = models.CharField(max_length=255, blank=True, null=True)
    body = models.TextField(blank=True, null=True)
    status = models.CharField(
        max_length=10,
        choices=PullRequestStatus.choices,
        default=PullRequestStatus.OPEN,
        db_default=PullRequestStatus.OPEN,
    )
    url = models.URLField(max_length=1000, blank=True, null=True)
    source = models.CharField(max_length=255, blank=True, null=True, help_text="Source branch.")
    destination = models.CharField(
        max_length=255, blank=True, null=True, help_text="Target branch."
    )
    issue = models.ForeignKey(
        Issue, on_delete=models.SET_NULL, null=True, blank=True, related_name="pull_requests"
    )
    commit_count = models.PositiveIntegerField(blank=True, null=True)
    additions = models.PositiveIntegerField(blank=True, null=True)
    deletions = models.PositiveIntegerField(blank=True, null=True)
    changed_files = models.PositiveIntegerField(blank=True, null=True)
    review_cycles = models.PositiveIntegerField(blank=True, null=True)
    rework_commit_count = models.PositiveIntegerField(blank=True, null=True)
    pr_created_at = models.DateTimeField(blank=True, null=True)
    first_review_at = models.DateTimeField(blank=True, null=True)
    merged_at = models.DateTimeField(blank=True, null=True)
    closed_at = models.DateTimeField(blank=True, null=True)
    embedding = embedding_field()

    class Meta:
        db_table = "pull_requests"
        # Plain lists read total_count from the per-client counter these keep (core.counts).
        triggers = [*count_triggers(), row_stamp_trigger()]
        ordering = ["-created_at", "-id"]
        indexes = [
            tenant_sync_index("pull_requests"),
            tenant_list_index("pull_requests"),
            models.Index(fields=["client", "repository"], name="pull_requests_repo_idx"),
            models.Index(fields=["client", "status"], name="pull_requests_status_idx"),
            models.Index(fields=["client", "user_name"], name="pull_requests_user_idx"),
            models.Index(fields=["client", "issue"], name="pull_requests_issue_idx"),
            embedding_index("pull_requests"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "repository", "number"],
                condition=models.Q(active=True),
                name="pull_requests_number_unique_per_repo",
                violation_error_message="This repository already has a pull request with this number.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PullRequestStatus.values),
                name="pull_requests_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repository}#{self.number}"
