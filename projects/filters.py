"""Project list filters."""

import django_filters
from django.db.models import Q

from projects.models import Project


class ProjectFilter(django_filters.FilterSet):
    """``project_type`` and a ``search`` over key and name."""

    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = Project
        fields = ("project_type",)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(name__icontains=value))
