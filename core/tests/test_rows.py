"""The list fast path gives exactly what the serializers give, field for field."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, FloatField, Q
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from core.api.renderers import OrjsonRenderer
from core.api.rows import row_plan
from core.counts import counter_sql
from core.db.query_shape import select_sql, single_table
from core.similarity import similar_rows, similar_values
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
    fast = plan.fetch(queryset).items
    context = {"include_ml_fields": ml_fields, "client_id": tenant_a.pk}
    slow = serializer_class(list(queryset), many=True, context=context).data
    # Byte for byte once rendered, and the same JSON as DRF's own renderer writes.
    assert OrjsonRenderer().render(fast) == OrjsonRenderer().render(slow)
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)
    assert [list(item) for item in fast] == [list(item) for item in slow]


@pytest.mark.parametrize("ml_fields", [False, True])
@pytest.mark.parametrize(("serializer_class", "model", "factory"), CASES)
def test_a_search_gives_the_serializer_output_too(
    tenant_a, serializer_class, model, factory, ml_fields
):
    """What /similar answers with: the search's values through the plan, as the serializer
    gives the model instances of the ORM's search, in the same order, at the same distances."""
    rng = np.random.default_rng(5)
    ids = rows_with_every_kind_of_value(factory, tenant_a)
    ids += [factory(client=tenant_a, embedding=rng.normal(size=1536)).pk for _ in range(4)]
    queryset = model.objects.filter(client=tenant_a, active=True)
    query = rng.normal(size=1536).tolist()
    plan = row_plan(serializer_class, ml_fields)
    columns = plan.columns if "id" in plan.columns else (*plan.columns, "id")
    found = similar_values(queryset=queryset, vector=query, k=10, columns=columns)
    rows = similar_rows(queryset=queryset, vector=query, k=10)
    assert len(found) == len(rows) == 5  # the row without a vector is no one's neighbour
    context = {"include_ml_fields": ml_fields, "client_id": tenant_a.pk}
    slow = serializer_class(rows, many=True, context=context).data
    fast = plan.items(found)
    assert OrjsonRenderer().render(fast) == OrjsonRenderer().render(slow)
    assert [row[-1] for row in found] == [row.distance for row in rows]
    # A queryset Django compiles in full (a join) searches alike.
    joined = queryset.filter(client__name=tenant_a.name)
    in_full = similar_values(queryset=joined, vector=query, k=3, columns=columns)
    assert OrjsonRenderer().render(plan.items(in_full)) == OrjsonRenderer().render(fast[:3])
    assert [row[-1] for row in in_full] == [row[-1] for row in found[:3]]
    # By a stored vector too (read by the statement itself), the row itself left out.
    stored = queryset.filter(pk=ids[0]).values("embedding")
    others = queryset.exclude(pk=ids[0])
    by_row = similar_values(queryset=others, vector=stored, k=10, columns=columns)
    by_instances = similar_rows(queryset=others, vector=stored, k=10)
    assert [row[columns.index("id")] for row in by_row] == [row.pk for row in by_instances]
    assert [row[-1] for row in by_row] == [row.distance for row in by_instances]


def test_fast_path_reads_in_binary_and_logs_its_query(tenant_a):
    IssueFactory(client=tenant_a, embedding=[0.25] * 1536)
    plan = row_plan(IssueSerializer, True)
    queryset = Issue.objects.filter(client=tenant_a).order_by("id")
    with CaptureQueriesContext(connections[queryset.db]) as queries:
        items = plan.fetch(queryset).items
    assert len(queries) == 1 and '"embedding"' in queries[0]["sql"]
    assert items[0]["embedding"].dtype == np.float64
    assert items[0]["embedding"].tolist() == [0.25] * 1536


def test_fast_path_returns_the_ordering_keys_of_each_row(tenant_a):
    first, second = IssueFactory(client=tenant_a), IssueFactory(client=tenant_a)
    plan = row_plan(IssueSerializer, False)
    queryset = Issue.objects.filter(client=tenant_a).order_by("id")
    keys = plan.fetch(queryset, ["created_at", "id"]).keys
    assert keys == [(first.created_at, first.pk), (second.created_at, second.pk)]


def test_serializers_with_computed_fields_keep_the_serializer_path():
    # UserSerializer.is_admin is a model property, not a column.
    assert row_plan(UserSerializer, False) is None


def test_an_empty_result_needs_no_query(tenant_a):
    plan = row_plan(IssueSerializer, False)
    assert plan.fetch(Issue.objects.filter(pk__in=[]).order_by("id")) == ([], [], None)


def rows_of(sql_and_params, alias) -> list[tuple]:
    sql, params = sql_and_params
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_page_sql_selects_what_values_list_selects(tenant_a, tenant_b):
    project = ProjectFactory(client=tenant_a, key="PLAT")
    for n in range(12):
        IssueFactory(
            client=tenant_a,
            story_points=n,
            labels=["backend"] if n % 3 else [],
            project=project if n % 2 else None,
            active=n != 5,
        )
    IssueFactory(client=tenant_b)
    mine = Issue.objects.filter(client_id=tenant_a.pk, active=True)
    ordered = mine.order_by("-created_at", "-id")
    composed = {
        "page": ordered[:5],
        "offset": ordered[3:8],
        "offset only": ordered[4:],
        "filter": ordered.filter(priority="High"),
        "exclude": ordered.exclude(status_name="Done"),
        "or": ordered.filter(Q(priority="High") | Q(story_points__gt=8)),
        "array": ordered.filter(labels__contains=["backend"]),
        "null": ordered.filter(project__isnull=True),
        "ordering by another field": mine.order_by("story_points", "id")[2:6],
        "ordering by a relation's column": mine.order_by("-project_id", "pk"),
        "model ordering": Issue.objects.filter(client=tenant_a),
        "reversed": ordered.reverse()[:7],
        "reversed model ordering": Issue.objects.filter(client=tenant_a).reverse(),
        "a repeated field": mine.order_by("-story_points", "story_points", "pk", "-id"),
        "pk": mine.order_by("-pk")[1:4],
    }
    compiled = {
        "join": ordered.filter(project__key="PLAT"),
        "join, a window": ordered.filter(project__key="PLAT")[1:4],
        "annotated": ordered.annotate(twice=F("story_points") * 2),
        "distinct": ordered.distinct(),
        "ordering by a related field": mine.order_by("project__key", "id"),
        "ordering by a relation": mine.order_by("project", "id"),
        "random ordering": mine.filter(pk=mine.first().pk).order_by("?"),
    }
    columns = row_plan(IssueSerializer, False).columns
    for name, queryset in {**composed, **compiled}.items():
        assert single_table(queryset.query) == (name in composed), name
        expected = list(queryset.values_list(*columns))
        assert expected, name
        assert rows_of(select_sql(queryset, columns, "default"), "default") == expected, name
        # An extra expression comes after the columns, with its own parameters.
        extra = ("%s::int + 1", (41,))
        with_extra = rows_of(select_sql(queryset, columns, "default", extra=extra), "default")
        assert with_extra == [(*row, 42) for row in expected], name
        # Ordered by the extra expression instead of its own ordering, the window kept.
        query = queryset.query
        window = slice(query.low_mark, query.high_mark)
        unordered = queryset.all()
        unordered.query.clear_limits()
        unordered = unordered.order_by()
        by_points = ("coalesce(%s - story_points, 0)", (100,))
        sql = select_sql(
            unordered[window], columns, "default", extra=by_points, order_by_extra=True
        )
        got = rows_of(sql, "default")
        ranked = unordered.annotate(
            rank=Coalesce(100 - F("story_points"), 0.0, output_field=FloatField())
        ).order_by("rank")[window]
        assert [row[-1] for row in got] == [
            float(r) for r in ranked.values_list("rank", flat=True)
        ], name
        assert sorted(row[:-1] for row in got) == sorted(ranked.values_list(*columns)), name
    # A query with an ordering of its own (its model's too, whatever its shape) is refused.
    for ordered_too in (
        mine.order_by("id"),
        Issue.objects.filter(client=tenant_a)[:5],
        Issue.objects.filter(project__key="PLAT")[:5],
        mine.order_by().distinct("story_points"),
    ):
        with pytest.raises(ValueError, match="order_by_extra"):
            select_sql(ordered_too, columns, "default", extra=extra, order_by_extra=True)
    with pytest.raises(EmptyResultSet):
        select_sql(mine.none(), columns, "default")


def test_fetch_selects_the_total_with_the_rows(tenant_a):
    for _ in range(3):
        IssueFactory(client=tenant_a)
    plan = row_plan(IssueSerializer, False)
    queryset = Issue.objects.filter(client_id=tenant_a.pk, active=True).order_by("-id")
    total = counter_sql(queryset, client_id=tenant_a.pk)
    with CaptureQueriesContext(connections[queryset.db]) as queries:
        fetched = plan.fetch(queryset[:2], (), total)
    assert (len(fetched.items), fetched.total, len(queries)) == (2, 3, 1)
    # No rows, no total: the caller counts.
    assert plan.fetch(queryset[5:], (), total).total is None
