"""Pull request list filters."""

from core.api.filters import (
    IdFilter,
    TenantFilterSet,
    TimestampFilter,
    choice_values_filter,
    integer_values_filter,
    null_filter,
    values_filter,
)
from pullrequests.models import PullRequest, PullRequestStatus


class PullRequestFilter(TenantFilterSet):
    """The natural key (``repository`` + ``number``), ``status``, ``user_name``, ``issue_id``,
    ``external_id``, null filters and time ranges (the source's too)."""

    repository = values_filter(255)
    number = integer_values_filter(0, 2**31 - 1)
    status = choice_values_filter(PullRequestStatus.choices)
    user_name = values_filter(255)
    external_id = values_filter(100)
    issue_id = IdFilter(field_name="issue_id")
    issue_id__isnull = null_filter("issue_id")
    user_name__isnull = null_filter("user_name")
    merged_at__isnull = null_filter("merged_at")
    pr_created_at_after = TimestampFilter("pr_created_at", "after")
    pr_created_at_before = TimestampFilter("pr_created_at", "before")
    merged_at_after = TimestampFilter("merged_at", "after")
    merged_at_before = TimestampFilter("merged_at", "before")
    closed_at_after = TimestampFilter("closed_at", "after")
    closed_at_before = TimestampFilter("closed_at", "before")

    class Meta:
        model = PullRequest
        fields = ()
