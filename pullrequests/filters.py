"""Pull request list filters."""

import django_filters

from pullrequests.models import PullRequest, PullRequestStatus


class PullRequestFilter(django_filters.FilterSet):
    """``repository``, ``status``, ``user_name`` and ``issue_id``."""

    repository = django_filters.CharFilter(max_length=255)
    status = django_filters.ChoiceFilter(choices=PullRequestStatus.choices)
    user_name = django_filters.CharFilter(max_length=255)
    issue_id = django_filters.NumberFilter(field_name="issue_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = PullRequest
        fields = ()
