"""Tenant isolation, generated from the OpenAPI schema: every operation, every method.

Tenant A's admin tries each operation on tenant B's rows: item operations answer 404 (or 405) and
leave B's row unchanged; list and search operations never return B's rows. A new endpoint
without a row factory below fails this test until it is added, so nothing slips through.
"""

from __future__ import annotations

import pytest

from core.tests.schema_operations import VECTOR, factory_for, make_row, operations

BODY = {
    "embedding": VECTOR,
    "key": "HIJACK-1",
    "summary": "hijacked",
    "name": "hijacked",
    "repository": "evil/repo",
    "number": 666,
    "email": "hijack@example.test",
    "role": "viewer",
    "limit": 100,
}


def method_paths() -> list[tuple[str, str]]:
    return [(operation.path, operation.method) for operation in operations()]


def body_for(path: str, method: str) -> dict:
    """The hijacking body, with the fields this operation takes (an unknown one is a 400)."""
    [operation] = [o for o in operations() if (o.path, o.method) == (path, method)]
    return {name: value for name, value in BODY.items() if name in operation.body}


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), method_paths())
def test_tenant_a_cannot_reach_tenant_b(api, admin_a, tenant_a, tenant_b, path, method):
    factory = factory_for(path)
    theirs = make_row(factory, tenant_b)
    model = type(theirs)
    before = _snapshot(model, theirs.pk)
    client = api(admin_a)

    if "{id}" in path:
        url = path.replace("{id}", str(theirs.pk))
        body = _json(body_for(path, method))
        response = client.generic(method, url, data=body, content_type="application/json")
        assert response.status_code in (404, 405), (method, url, response.status_code)
    else:
        make_row(factory, tenant_a)  # something of A's own to list
        body = _json(body_for(path, method))
        response = client.generic(method, path, data=body, content_type="application/json")
        assert response.status_code < 500, (method, path, response.status_code)
        if response.status_code < 300 and response["Content-Type"].startswith("application/json"):
            body = response.json()
            assert theirs.pk not in _values_of("id", body), (method, path)
            assert tenant_b.pk not in _values_of("client_id", body), (method, path)
    assert _snapshot(model, theirs.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", sorted({path for path, _ in method_paths() if path.startswith("/api/ml/")})
)
def test_ml_endpoints_are_for_admins_only(api, user_a, viewer_a, tenant_a, path):
    row = make_row(factory_for(path), tenant_a)
    url = path.replace("{id}", str(row.pk))
    assert api(user_a).get(url).status_code == 403
    assert api(viewer_a).get(url).status_code == 403
    assert api().get(url).status_code == 401


def _json(body: dict) -> str:
    import json

    return json.dumps(body)


def _snapshot(model, pk: int) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    return {
        key: value.tolist() if hasattr(value, "tolist") else value for key, value in row.items()
    }


def _values_of(key: str, body) -> set[int]:
    """Every value of ``key`` anywhere in a response body."""
    found: set[int] = set()
    if isinstance(body, dict):
        if isinstance(body.get(key), int):
            found.add(body[key])
        for value in body.values():
            found |= _values_of(key, value)
    elif isinstance(body, list):
        for value in body:
            found |= _values_of(key, value)
    return found
