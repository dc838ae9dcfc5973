"""Issue list filters."""

import django_filters
from django.db.models import Q

from core.api.filters import IdFilter, text_filter
from issues.models import Issue


class IssueFilter(django_filters.FilterSet):
    """The original service's filters, plus ``project_key`` and a ``search`` over key and summary."""

    project_id = IdFilter(field_name="project_id")
    project_key = text_filter(50, field_name="project__key")
    status_name = text_filter(100)
    priority = text_filter(50)
    issuetype_name = text_filter(100)
    assignee = text_filter(255)
    search = text_filter(200, method="filter_search")

    class Meta:
        model = Issue
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(summary__icontains=value))
