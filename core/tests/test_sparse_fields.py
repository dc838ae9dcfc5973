"""Sparse fields: ``?fields=`` on lists and items; only those columns are read."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from issues.tests.factories import IssueFactory
from mlmonitoring.tests.factories import PredictionLogFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_lists_and_items_answer_the_fields_asked_for(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a, key="F-1", status_name="Done")
    client = api(admin_a)
    page = client.get("/api/issues", {"fields": "status_name,key,id"}).json()
    assert page["issues"] == [{"id": issue.pk, "key": "F-1", "status_name": "Done"}]
    assert page["total_count"] == 1
    item = client.get(f"/api/issues/{issue.pk}", {"fields": "key"}).json()
    assert item == {"key": "F-1"}
    with_vector = client.get(
        f"/api/issues/{issue.pk}", {"fields": "key,embedding", "include_ml_fields": "true"}
    )
    assert with_vector.json() == {"key": "F-1", "embedding": None}
    # The serializer path (users have a computed field) answers the same way.
    UserFactory(client=tenant_a, email="f@example.com")
    users = client.get("/api/users", {"fields": "email,is_admin", "email": "f@example.com"})
    assert users.json()["users"] == [{"email": "f@example.com", "is_admin": False}]
    logs = PredictionLogFactory(client=tenant_a)
    shown = client.get("/api/ml/prediction-logs", {"fields": "id,model_name"}).json()
    assert shown["prediction_logs"] == [{"id": logs.pk, "model_name": logs.model_name}]


def test_only_the_columns_asked_for_are_read(api, admin_a, tenant_a):
    IssueFactory(client=tenant_a)
    client = api(admin_a)
    with CaptureQueriesContext(connections["default"]) as queries:
        client.get("/api/issues", {"fields": "id,key"})
    page_query = next(q["sql"] for q in queries if 'FROM "issues"' in q["sql"])
    selected = page_query.split("FROM")[0]
    assert '"key"' in selected and '"summary"' not in selected and '"description"' not in selected


@pytest.mark.parametrize(
    "value",
    ["", "bogus", "id,bogus", "id,id", "id,", ",id", "ID", "embedding", "password", "id key"],
)
def test_unknown_repeated_or_hidden_fields_are_400s_naming_fields(api, admin_a, tenant_a, value):
    issue = IssueFactory(client=tenant_a)
    client = api(admin_a)
    for path in ("/api/issues", f"/api/issues/{issue.pk}", "/api/users"):
        response = client.get(path, {"fields": value})
        assert response.status_code == 400 and "fields" in response.json(), (path, value)


def test_sparse_items_have_their_own_etag_and_if_match_takes_any(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a)
    client = api(admin_a)
    full = client.get(f"/api/issues/{issue.pk}")["ETag"]
    sparse = client.get(f"/api/issues/{issue.pk}", {"fields": "id,key"})["ETag"]
    assert sparse != full and sparse.startswith(full[:-1])
    assert (
        client.get(
            f"/api/issues/{issue.pk}", {"fields": "id,key"}, HTTP_IF_NONE_MATCH=sparse
        ).status_code
        == 304
    )
