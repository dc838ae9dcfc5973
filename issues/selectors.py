"""Reads on issues beyond a plain list."""

from __future__ import annotations

from django.db.models import Count

from issues.models import Issue


def issue_stats(*, client_id: int) -> dict:
    """Active issues of a client counted by ``status_name`` and by ``priority``."""
    issues = Issue.objects.filter(client_id=client_id, active=True)
    by_status = dict(
        issues.order_by()
        .values_list("status_name")
        .annotate(n=Count("id"))
        .values_list("status_name", "n")
    )
    by_priority = dict(
        issues.order_by()
        .values_list("priority")
        .annotate(n=Count("id"))
        .values_list("priority", "n")
    )
    return {
        "total": sum(by_status.values()),
        "by_status_name": {
            str(key) if key is not None else "none": n for key, n in by_status.items()
        },
        "by_priority": {
            str(key) if key is not None else "none": n for key, n in by_priority.items()
        },
    }
