"""Project representation."""

from core.api.serializers import TENANT_READ_ONLY_FIELDS, TenantModelSerializer
from projects.models import Project


class ProjectSerializer(TenantModelSerializer):
    """A project; ``key`` is unique within the client."""

    # Lists are built from plain rows (core.api.rows); a system check holds this class to it.
    list_from_rows = True

    class Meta:
        model = Project
        fields = (
            *TENANT_READ_ONLY_FIELDS,
            "key",
            "name",
            "project_type",
            "external_id",
            "embedding",
        )
        read_only_fields = TENANT_READ_ONLY_FIELDS
