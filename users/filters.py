"""User list filters."""

import django_filters
from django.db.models import Q

from core.api.filters import StrictChoiceFilter, text_filter
from users.models import Role, User


class UserFilter(django_filters.FilterSet):
    """``role`` and a ``search`` over email and names."""

    role = StrictChoiceFilter(choices=Role.choices)
    search = text_filter(200, method="filter_search")

    class Meta:
        model = User
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
        )
