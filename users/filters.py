"""User list filters."""

from django.db.models import Q

from core.api.filters import TenantFilterSet, choice_values_filter, text_filter, values_filter
from users.models import Role, User


class UserFilter(TenantFilterSet):
    """``email`` (natural key, any case), ``role``, time ranges and a ``search`` over email and
    names."""

    email = values_filter(254, prepare=str.lower)
    role = choice_values_filter(Role.choices)
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
