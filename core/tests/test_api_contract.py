"""The contract every domain endpoint shares, checked on each resource."""

from __future__ import annotations

import importlib

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from config.api_urls import router as api_router
from core.api.rows import row_plan
from core.api.viewsets import TenantViewSet
from core.tests.schema_operations import factories
from issues.models import Issue
from issues.tests.factories import IssueFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _resources() -> dict[str, tuple]:
    """Every writable routed resource: (path, list key, factory, model, a body to create one),
    the factory and the body from its app's ``tests/factories.py``."""
    found = {}
    for prefix, viewset, _ in api_router.registry:
        if not issubclass(viewset, TenantViewSet):
            continue
        model = viewset.queryset.model
        bodies = importlib.import_module(f"{model._meta.app_label}.tests.factories").CREATE_BODIES
        found[prefix] = (
            f"/api/{prefix}",
            viewset.list_key,
            factories()[model],
            model,
            bodies[model],
        )
    return found


RESOURCES = _resources()


def test_the_contract_covers_the_routed_resources():
    assert set(RESOURCES) == {"issues", "pull-requests", "projects", "users"}


@pytest.fixture(params=list(RESOURCES))
def resource(request):
    path, key, factory, model, body = RESOURCES[request.param]
    return {"path": path, "key": key, "factory": factory, "model": model, "body": body}


def rows_of(resource, tenant, n):
    return [resource["factory"](client=tenant) for _ in range(n)]


def test_list_envelope_and_counts(api, resource, admin_a, tenant_a):
    rows_of(resource, tenant_a, 3)
    expected_total = resource["model"].objects.filter(client=tenant_a).count()
    response = api(admin_a).get(resource["path"], {"limit": 2, "offset": 1})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        resource["key"],
        "count",
        "total_count",
        "offset",
        "limit",
        "ml_fields_included",
    }
    assert body["count"] == 2 == len(body[resource["key"]])
    assert body["total_count"] == expected_total
    assert (body["offset"], body["limit"], body["ml_fields_included"]) == (1, 2, False)


def test_list_with_and_without_trailing_slash(api, resource, admin_a):
    client = api(admin_a)
    assert client.get(resource["path"]).status_code == 200
    assert client.get(resource["path"] + "/").status_code == 200


def test_ml_fields_off_does_not_even_select_the_column(api, resource, admin_a, tenant_a):
    rows_of(resource, tenant_a, 2)
    with CaptureQueriesContext(connections["default"]) as queries:
        response = api(admin_a).get(resource["path"])
    assert response.status_code == 200
    assert all("embedding" not in row for row in response.json()[resource["key"]])
    table = resource["model"]._meta.db_table
    page_sql = [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]]
    assert page_sql, "the page query was not captured"
    assert all('"embedding"' not in sql for sql in page_sql)


def test_ml_fields_on_returns_arrays_or_null(api, resource, admin_a, tenant_a):
    with_vector, without = rows_of(resource, tenant_a, 2)
    resource["model"].objects.filter(pk=with_vector.pk).update(embedding=[0.5] * 1536)
    response = api(admin_a).get(resource["path"], {"include_ml_fields": "true", "limit": 1000})
    body = response.json()
    assert body["ml_fields_included"] is True
    by_id = {row["id"]: row for row in body[resource["key"]]}
    assert by_id[with_vector.pk]["embedding"] == [0.5] * 1536
    assert by_id[without.pk]["embedding"] is None
    detail = api(admin_a).get(f"{resource['path']}/{with_vector.pk}", {"include_ml_fields": "true"})
    assert detail.json()["embedding"] == [0.5] * 1536


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"ordering": "nope"}, "ordering"),
        ({"include_ml_fields": "perhaps"}, "include_ml_fields"),
        ({"unknown_param": "1"}, "unknown_param"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(api, resource, admin_a, params, bad):
    response = api(admin_a).get(resource["path"], params)
    assert response.status_code == 400
    assert bad in response.json()


def test_limit_1000_is_accepted_not_clamped(api, resource, admin_a):
    assert api(admin_a).get(resource["path"], {"limit": 1000}).json()["limit"] == 1000


def test_malformed_json_is_400(api, resource, admin_a):
    response = api(admin_a).post(
        resource["path"], data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_create_update_and_soft_delete(api, resource, admin_a, tenant_a):
    client = api(admin_a)
    created = client.post(resource["path"], resource["body"], format="json")
    assert created.status_code == 201, created.json()
    row_id = created.json()["id"]
    assert created.json()["client_id"] == tenant_a.pk
    url = f"{resource['path']}/{row_id}"
    # PUT accepts a partial body, like PATCH.
    field, value = next(iter(resource["body"].items()))
    changed = (
        "changed@example.test"
        if field == "email"
        else (value + 1 if isinstance(value, int) else f"{value}-2")
    )
    assert client.put(url, {field: changed}, format="json").status_code == 200
    assert client.patch(url, {field: value}, format="json").json()[field] == value
    total_before = client.get(resource["path"]).json()["total_count"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    listing = client.get(resource["path"]).json()
    assert row_id not in [row["id"] for row in listing[resource["key"]]]
    assert listing["total_count"] == total_before - 1
    assert resource["model"].objects.get(pk=row_id).active is False  # kept, not erased


def test_read_only_fields_are_ignored_on_write(api, resource, admin_a, tenant_a, tenant_b):
    body = {
        **resource["body"],
        "client_id": tenant_b.pk,
        "id": 999999,
        "active": False,
        "embedding": [1.0] * 1536,
    }
    created = api(admin_a).post(resource["path"], body, format="json")
    assert created.status_code == 201, created.json()
    row = resource["model"].objects.get(pk=created.json()["id"])
    assert (row.client_id, row.active, row.embedding) == (tenant_a.pk, True, None)
    assert row.pk != 999999


def test_another_tenants_rows_are_invisible_and_untouchable(api, resource, admin_a, tenant_b):
    theirs = resource["factory"](client=tenant_b)
    before = resource["model"].objects.filter(pk=theirs.pk).values().get()
    client = api(admin_a)
    url = f"{resource['path']}/{theirs.pk}"
    field = next(iter(resource["body"]))
    assert client.get(url).status_code == 404
    assert client.put(url, {field: resource["body"][field]}, format="json").status_code == 404
    assert client.patch(url, {field: resource["body"][field]}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert resource["model"].objects.filter(pk=theirs.pk).values().get() == before
    listing = client.get(resource["path"], {"limit": 1000}).json()[resource["key"]]
    assert theirs.pk not in [row["id"] for row in listing]


def test_client_id_rule(api, resource, admin_a, tenant_a, tenant_b):
    client = api(admin_a)
    assert client.get(resource["path"], {"client_id": tenant_a.pk}).status_code == 200
    response = client.get(resource["path"], {"client_id": tenant_b.pk})
    assert response.status_code == 403
    assert "client_id" in response.json()["detail"]
    assert client.get(resource["path"], {"client_id": "x"}).status_code == 400


def test_superuser_may_read_another_client(api, resource, tenant_a, tenant_b):
    operator = UserFactory(client=tenant_a, is_superuser=True, is_staff=True, role="admin")
    theirs = resource["factory"](client=tenant_b)
    listing = api(operator).get(resource["path"], {"client_id": tenant_b.pk, "limit": 1000}).json()
    assert theirs.pk in [row["id"] for row in listing[resource["key"]]]


def test_authentication(api, resource, user_a):
    assert api().get(resource["path"]).status_code == 401
    bad = api()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get(resource["path"]).status_code == 401
    assert api(user_a, scheme="Token").get(resource["path"]).status_code == 200
    assert api(user_a, scheme="Bearer").get(resource["path"]).status_code == 200


def test_viewers_read_but_never_write(api, resource, viewer_a, tenant_a):
    row = resource["factory"](client=tenant_a)
    client = api(viewer_a)
    assert client.get(resource["path"]).status_code == 200
    assert client.post(resource["path"], resource["body"], format="json").status_code == 403
    assert client.patch(f"{resource['path']}/{row.pk}", {}, format="json").status_code == 403
    assert client.delete(f"{resource['path']}/{row.pk}").status_code == 403
    assert resource["model"].objects.get(pk=row.pk).active is True


def test_list_query_count_does_not_grow_with_the_page(api, resource, admin_a, tenant_a):
    rows_of(resource, tenant_a, 101)
    total = resource["model"].objects.filter(client=tenant_a, active=True).count()
    client = api(admin_a)
    client.get(resource["path"])  # warm caches (content types, the remembered token)
    view = resolve(resource["path"]).func.cls
    # The page with its total (one query); the serializer path counts in a second one.
    expected = 1 if row_plan(view.serializer_class, False) else 2
    for page_size in (1, 10, 100):
        with CaptureQueriesContext(connections["default"]) as queries:
            response = client.get(resource["path"], {"limit": page_size})
        assert response.json()["count"] == page_size
        assert response.json()["total_count"] == total
        assert len(queries) == expected, [q["sql"] for q in queries]


def test_the_shared_per_client_queryset_is_never_run(api, admin_a, tenant_a):
    from issues.views import IssueViewSet

    IssueFactory(client=tenant_a, priority="High")
    client = api(admin_a)
    assert client.get("/api/issues", {"priority": "High"}).json()["total_count"] == 1
    assert client.get("/api/issues", {"limit": 1}).json()["count"] == 1
    shared = IssueViewSet.client_rows(tenant_a.pk, False, False)
    assert shared._result_cache is None
    # Filters went to the request's copy, never into the shared queryset.
    assert str(shared.query) == str(Issue.objects.filter(client_id=tenant_a.pk, active=True)
                                    .defer("embedding").query)  # fmt: skip
    IssueFactory(client=tenant_a, priority="Low")
    assert client.get("/api/issues").json()["total_count"] == 2
