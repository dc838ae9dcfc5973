"""Project list filters."""

import django_filters
from django.db.models import Q

from core.api.filters import text_filter
from projects.models import Project


class ProjectFilter(django_filters.FilterSet):
    """``project_type`` and a ``search`` over key and name."""

    search = text_filter(200, method="filter_search")

    class Meta:
        model = Project
        fields = ("project_type",)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(name__icontains=value))
