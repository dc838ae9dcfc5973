"""Issue list filters."""

from django.db.models import Q

from core.api.filters import (
    IdFilter,
    TenantFilterSet,
    TimestampFilter,
    null_filter,
    text_filter,
    values_filter,
)
from issues.models import Issue


class IssueFilter(TenantFilterSet):
    """The original service's filters, plus natural keys (``key``, ``project_key``), "any of"
    values, null filters, time ranges and a ``search`` over key and summary."""

    key = values_filter(50)
    project_id = IdFilter(field_name="project_id")
    project_key = values_filter(50, field_name="project__key")
    status_name = values_filter(100)
    priority = values_filter(50)
    issuetype_name = values_filter(100)
    assignee = values_filter(255)
    team = values_filter(255)
    epic_link = values_filter(50)
    project_id__isnull = null_filter("project_id")
    status_name__isnull = null_filter("status_name")
    priority__isnull = null_filter("priority")
    issuetype_name__isnull = null_filter("issuetype_name")
    assignee__isnull = null_filter("assignee")
    epic_link__isnull = null_filter("epic_link")
    created_after = TimestampFilter("created", "after")
    created_before = TimestampFilter("created", "before")
    updated_after = TimestampFilter("updated", "after")
    updated_before = TimestampFilter("updated", "before")
    search = text_filter(200, method="filter_search")

    class Meta:
        model = Issue
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(summary__icontains=value))
