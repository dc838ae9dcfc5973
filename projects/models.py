"""Projects (Jira projects and the like) of a client."""

from django.db import models

from core.changes import row_stamp_trigger, tenant_sync_index
from core.counts import count_triggers
from core.fields import embedding_field, embedding_index
from core.models import TenantModel, tenant_list_index


class Project(TenantModel):
    """A project; its key is unique among the client's active projects."""

    key = models.CharField(max_length=50)
    name = models.CharField(max_length=255)
    project_type = models.CharField(max_length=50, blank=True, default="", db_default="")
    external_id = models.CharField(max_length=100, blank=True, null=True)
    embedding = embedding_field()

    class Meta:
        db_table = "projects"
        # Plain lists read total_count from the per-client counter these keep (core.counts).
        triggers = [*count_triggers(), row_stamp_trigger()]
        ordering = ["-created_at", "-id"]
        indexes = [
            tenant_sync_index("projects"),
            tenant_list_index("projects"),
            models.Index(fields=["client", "project_type"], name="projects_type_idx"),
            embedding_index("projects"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"],
                condition=models.Q(active=True),
                name="projects_key_unique_per_client",
                violation_error_message="A project with this key already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"
