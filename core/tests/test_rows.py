"""The list fast path gives exactly what the serializers give, field for field."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from core.api.renderers import OrjsonRenderer
from core.api.rows import row_plan
from issues.models import Issue
from issues.serializers import IssueSerializer
from issues.tests.factories import IssueFactory
from projects.models import Project
from projects.serializers import ProjectSerializer
from projects.tests.factories import ProjectFactory
from pullrequests.models import PullRequest
from pullrequests.serializers import PullRequestSerializer
from pullrequests.tests.factories import PullRequestFactory
from users.serializers import UserSerializer

pytestmark = pytest.mark.django_db

CASES = [
    (IssueSerializer, Issue, IssueFactory),
    (PullRequestSerializer, PullRequest, PullRequestFactory),
    (ProjectSerializer, Project, ProjectFactory),
]


def rows_with_every_kind_of_value(factory, tenant):
    rng = np.random.default_rng(3)
    full = factory(client=tenant)
    empty = factory(client=tenant)
    vector = rng.normal(size=1536).astype(np.float32)
    values = {"embedding": vector}
    model = full._meta.model
    if model is Issue:
        values |= {
            "story_points": 2.5,
            "labels": ["backend", "ünïcode"],
            "created": dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=dt.UTC),
            "total_cycle_time_seconds": 2**40,
            "project": ProjectFactory(client=tenant),
        }
    if model is PullRequest:
        values |= {"status": "merged", "additions": 12, "issue": IssueFactory(client=tenant)}
    for name, value in values.items():
        setattr(full, name, value)
    full.save()
    return [full.pk, empty.pk]


@pytest.mark.parametrize("ml_fields", [False, True])
@pytest.mark.parametrize(("serializer_class", "model", "factory"), CASES)
def test_fast_path_output_equals_serializer_output(
    tenant_a, serializer_class, model, factory, ml_fields
):
    ids = rows_with_every_kind_of_value(factory, tenant_a)
    queryset = model.objects.filter(pk__in=ids).order_by("id")
    plan = row_plan(serializer_class, ml_fields)
    assert plan is not None
    fast, _ = plan.fetch(queryset)
    context = {"include_ml_fields": ml_fields, "client_id": tenant_a.pk}
    slow = serializer_class(list(queryset), many=True, context=context).data
    # Byte for byte once rendered, and the same JSON as DRF's own renderer writes.
    assert OrjsonRenderer().render(fast) == OrjsonRenderer().render(slow)
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)
    assert [list(item) for item in fast] == [list(item) for item in slow]


def test_fast_path_reads_in_binary_and_logs_its_query(tenant_a):
    IssueFactory(client=tenant_a, embedding=[0.25] * 1536)
    plan = row_plan(IssueSerializer, True)
    queryset = Issue.objects.filter(client=tenant_a).order_by("id")
    with CaptureQueriesContext(connections[queryset.db]) as queries:
        items, _ = plan.fetch(queryset)
    assert len(queries) == 1 and '"embedding"' in queries[0]["sql"]
    assert items[0]["embedding"].dtype == np.float64
    assert items[0]["embedding"].tolist() == [0.25] * 1536


def test_fast_path_returns_the_ordering_keys_of_each_row(tenant_a):
    first, second = IssueFactory(client=tenant_a), IssueFactory(client=tenant_a)
    plan = row_plan(IssueSerializer, False)
    queryset = Issue.objects.filter(client=tenant_a).order_by("id")
    _, keys = plan.fetch(queryset, ["created_at", "id"])
    assert keys == [(first.created_at, first.pk), (second.created_at, second.pk)]


def test_serializers_with_computed_fields_keep_the_serializer_path():
    # UserSerializer.is_admin is a model property, not a column.
    assert row_plan(UserSerializer, False) is None


def test_an_empty_result_needs_no_query(tenant_a):
    plan = row_plan(IssueSerializer, False)
    assert plan.fetch(Issue.objects.filter(pk__in=[]).order_by("id")) == ([], [])
