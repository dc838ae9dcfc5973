"""Per-client row counts stay exact through every kind of write; lists use them only when plain."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from core.counts import counter_sql, tenant_rows_count
from core.models import TenantRowCount
from issues.models import Issue
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


def counted(client) -> int:
    row = TenantRowCount.objects.filter(table_name="issues", client_id=client.pk).first()
    return row.rows if row else 0


def real(client) -> int:
    return Issue.objects.filter(client=client, active=True).count()


def test_counts_follow_inserts_soft_deletes_moves_and_deletes(tenant_a, tenant_b):
    issues = [IssueFactory(client=tenant_a) for _ in range(3)]
    Issue.objects.bulk_create(Issue(client=tenant_a, key=f"B-{n}", summary="s") for n in range(5))
    assert counted(tenant_a) == real(tenant_a) == 8
    Issue.objects.filter(pk=issues[0].pk).update(active=False)  # soft delete
    Issue.objects.filter(pk=issues[0].pk).update(summary="edited")  # inactive: no change
    Issue.objects.filter(pk=issues[1].pk).update(client=tenant_b)  # moved to another client
    issues[2].delete()  # hard delete
    assert (counted(tenant_a), counted(tenant_b)) == (real(tenant_a), real(tenant_b)) == (5, 1)
    Issue.objects.filter(pk=issues[0].pk).update(active=True)  # restored
    assert counted(tenant_a) == real(tenant_a) == 6


def test_plain_list_reads_the_counter_filtered_list_counts(tenant_a):
    for priority in ("High", "High", "Low"):
        IssueFactory(client=tenant_a, priority=priority)
    plain = Issue.objects.filter(client_id=tenant_a.pk, active=True).order_by("-id")
    filtered = plain.filter(priority="High")
    alias = plain.db
    with CaptureQueriesContext(connections[alias]) as queries:
        assert tenant_rows_count(plain, client_id=tenant_a.pk) == 3
        assert tenant_rows_count(filtered, client_id=tenant_a.pk) == 2
    assert "tenant_row_counts" in queries[0]["sql"]
    assert "COUNT(*)" in queries[1]["sql"]


def test_total_count_of_lists_stays_exact(api, admin_a, tenant_a):
    for n in range(7):
        IssueFactory(client=tenant_a, priority="High" if n % 2 else "Low", active=n != 0)
    client = api(admin_a)
    assert client.get("/api/issues", {"limit": 2}).json()["total_count"] == 6
    assert client.get("/api/issues", {"limit": 1, "priority": "High"}).json()["total_count"] == 3


def test_only_the_plain_list_is_answered_by_the_counter(tenant_a, tenant_b):
    mine = Issue.objects.filter(client_id=tenant_a.pk, active=True)
    plain = [
        mine,
        mine.order_by("-id"),
        Issue.objects.filter(active=True, client=tenant_a),
        Issue.objects.filter(client_id=tenant_a.pk).filter(active=True),
    ]
    filtered = [
        mine.filter(priority="High"),
        mine.exclude(priority="High"),
        Issue.objects.filter(Q(client_id=tenant_a.pk) | Q(active=True)),
        Issue.objects.exclude(client_id=tenant_a.pk).filter(active=True),
        Issue.objects.filter(client_id=tenant_a.pk, active=False),
        Issue.objects.filter(client_id=tenant_b.pk, active=True),
        Issue.objects.filter(client_id=tenant_a.pk),
        Issue.objects.filter(client__name=tenant_a.name, active=True),
        mine.distinct(),
    ]
    for queryset in plain:
        assert counter_sql(queryset, client_id=tenant_a.pk) is not None, queryset.query
    for queryset in filtered:
        assert counter_sql(queryset, client_id=tenant_a.pk) is None, queryset.query
