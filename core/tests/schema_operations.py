"""The API's operations, read from its OpenAPI schema, and a row of each resource to act on.

Shared by the tests that are generated from the schema (tenant isolation, input classes), so a
new endpoint is covered by all of them, or fails them until its app's ``tests/factories.py`` has
a factory for its model.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from factory.django import DjangoModelFactory

VECTOR = [0.01 * (i % 10 + 1) for i in range(1536)]
NOT_TENANT_DATA = ("/api/schema/", "/api/docs/", "/api/redoc/")


@dataclass(frozen=True)
class Operation:
    """One method on one path, with its query parameters and its body's properties."""

    path: str
    method: str
    query: dict[str, dict]  # name -> JSON schema
    body: dict[str, dict]  # property -> JSON schema (resolved)
    required: tuple[str, ...]
    public: bool = False  # no token needed (asking for one)

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
            public = not any(operation.get("security", [{}]))
            found.append(
                Operation(
                    path,
                    method.upper(),
                    query,
                    body,
                    tuple(body_schema.get("required", ())),
                    public,
                )
            )
    return tuple(sorted(found, key=str))


@functools.cache
def factories() -> dict[type, type]:
    """Each model's factory, from every installed app's ``tests/factories.py``."""
    found = {}
    for app in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app.name}.tests.factories")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DjangoModelFactory)
                and value._meta.model is not None
            ):
                found.setdefault(value._meta.model, value)
    return found


def model_for(path: str) -> type:
    """The model of the viewset that serves ``path`` (a schema path)."""
    return resolve(path.replace("{id}", "1")).func.cls.queryset.model


def factory_for(path: str):
    model = model_for(path)
    if model not in factories():
        pytest.fail(
            f"no factory for {model.__name__} ({path}): add one to its app's tests/factories.py "
            "so the generated tests cover it"
        )
    return factories()[model]


def make_row(factory, tenant):
    model = factory._meta.model
    has_embedding = any(field.name == "embedding" for field in model._meta.get_fields())
    return factory(client=tenant, **({"embedding": VECTOR} if has_embedding else {}))
