"""Fixtures of the health tests: no cached embedding counts, schema objects made for a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.db import connections

from core.db.state import request_scope
from core.models import Client
from core.testing import wait_for_standby
from health.embedding_counts import CACHE_KEY


@pytest.fixture(autouse=True)
def _no_cached_embedding_counts() -> Iterator[None]:
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


@pytest.fixture
def make_table() -> Iterator[Callable[[str, str], str]]:
    """Create a table on the primary (replicated to the standby); dropped after the test."""
    created: list[str] = []

    def make(name: str, columns: str) -> str:
        with connections["default"].cursor() as cursor:
            cursor.execute(f"CREATE TABLE {name} ({columns})")
        created.append(name)
        wait_for_standby()
        return name

    yield make
    with connections["default"].cursor() as cursor:
        for name in created:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def client(client, django_user_model):
    """Django's test client signed in as an operator (a staff user): the full health reports."""
    with request_scope():  # its own unit of work: the test's reads are not pinned by these writes
        platform = Client.objects.create(name="Platform operators")
        operator = django_user_model.objects.create_user(
            email="operator@example.test", client=platform, is_staff=True
        )
        client.force_login(operator)
    wait_for_standby()
    return client
