"""The API's operations, read from its OpenAPI schema, and a row of each resource to act on.

Shared by the tests that are generated from the schema (tenant isolation, input classes), so a
new endpoint is covered by all of them, or fails them until it has a row factory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from drf_spectacular.generators import SchemaGenerator

from issues.tests.factories import IssueFactory
from mlmonitoring.tests.factories import (
    AnomalyAlertFactory,
    LearningMemoryFactory,
    PredictionLogFactory,
)
from projects.tests.factories import ProjectFactory
from pullrequests.tests.factories import PullRequestFactory
from users.tests.factories import UserFactory

VECTOR = [0.01 * (i % 10 + 1) for i in range(1536)]
FACTORIES = {
    "/api/ml/learning-memory/": LearningMemoryFactory,
    "/api/ml/prediction-logs/": PredictionLogFactory,
    "/api/ml/anomaly-alerts/": AnomalyAlertFactory,
    "/api/issues/": IssueFactory,
    "/api/pull-requests/": PullRequestFactory,
    "/api/projects/": ProjectFactory,
    "/api/users/": UserFactory,
}
NOT_TENANT_DATA = ("/api/schema/", "/api/docs/", "/api/redoc/")


@dataclass(frozen=True)
class Operation:
    """One method on one path, with its query parameters and its body's properties."""

    path: str
    method: str
    query: dict[str, dict]  # name -> JSON schema
    body: dict[str, dict]  # property -> JSON schema (resolved)
    required: tuple[str, ...]

    @property
    def has_id(self) -> bool:
        return "{id}" in self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@functools.cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: dict) -> dict:
    if "$ref" in node:
        return _resolve(schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    return node


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every tenant-data operation of the API, in a stable order."""
    found = []
    for path, item in schema()["paths"].items():
        if not path.startswith("/api/") or path.startswith(NOT_TENANT_DATA):
            continue
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            query = {
                parameter["name"]: parameter.get("schema", {})
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query"
            }
            content = operation.get("requestBody", {}).get("content", {})
            body_schema = _resolve(content.get("application/json", {}).get("schema", {}))
            body = {
                name: _resolve(node)
                for name, node in body_schema.get("properties", {}).items()
                if not _resolve(node).get("readOnly")
            }
            found.append(
                Operation(path, method.upper(), query, body, tuple(body_schema.get("required", ())))
            )
    return tuple(sorted(found, key=str))


def factory_for(path: str):
    for prefix, factory in FACTORIES.items():
        if path.startswith(prefix):
            return factory
    pytest.fail(f"no row factory for {path}: add one to FACTORIES so the generated tests cover it")


def make_row(factory, tenant):
    model = factory._meta.model
    has_embedding = any(field.name == "embedding" for field in model._meta.get_fields())
    return factory(client=tenant, **({"embedding": VECTOR} if has_embedding else {}))
