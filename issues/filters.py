"""Issue list filters."""

import django_filters
from django.db.models import Q

from issues.models import Issue


class IssueFilter(django_filters.FilterSet):
    """The original service's filters, plus ``project_key`` and a ``search`` over key and summary."""

    project_id = django_filters.NumberFilter(
        field_name="project_id", min_value=1, max_value=2**63 - 1
    )
    project_key = django_filters.CharFilter(field_name="project__key", max_length=50)
    status_name = django_filters.CharFilter(max_length=100)
    priority = django_filters.CharFilter(max_length=50)
    issuetype_name = django_filters.CharFilter(max_length=100)
    assignee = django_filters.CharFilter(max_length=255)
    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = Issue
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(summary__icontains=value))
