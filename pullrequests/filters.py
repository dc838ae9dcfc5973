"""Pull request list filters."""

import django_filters

from core.api.filters import IdFilter, StrictChoiceFilter, text_filter
from pullrequests.models import PullRequest, PullRequestStatus


class PullRequestFilter(django_filters.FilterSet):
    """``repository``, ``status``, ``user_name`` and ``issue_id``."""

    repository = text_filter(255)
    status = StrictChoiceFilter(choices=PullRequestStatus.choices)
    user_name = text_filter(255)
    issue_id = IdFilter(field_name="issue_id")

    class Meta:
        model = PullRequest
        fields = ()
