"""Project list filters."""

from django.db.models import Q

from core.api.filters import TenantFilterSet, null_filter, text_filter, values_filter
from projects.models import Project


class ProjectFilter(TenantFilterSet):
    """``key`` (natural key), ``project_type``, ``external_id``, time ranges and a ``search``
    over key and name."""

    key = values_filter(50)
    project_type = values_filter(50)
    external_id = values_filter(100)
    external_id__isnull = null_filter("external_id")
    search = text_filter(200, method="filter_search")

    class Meta:
        model = Project
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(name__icontains=value))
