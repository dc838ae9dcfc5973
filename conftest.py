"""Test-suite set-up: the embedded servers, one test database shared by primary and standby."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from core import redis_cache, shared_cache
from core.db import deadline, replicas, state
from core.testing import wait_for_standby


def pytest_configure(config) -> None:
    # The suite runs against the real primary and standby: make sure they are up.
    if settings.EMBEDDED_DB is not None:
        settings.EMBEDDED_DB.start()


def pytest_collection_modifyitems(config, items) -> None:
    # Against external databases (DATABASE_URL) there are no servers of ours to stop or delay.
    if settings.EMBEDDED_DB is None:
        skip = pytest.mark.skip(reason="needs the embedded servers (DATABASE_URL is set)")
        for item in items:
            if "embedded" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Create the test database on the primary only; standbys receive it by replication."""
    with django_db_blocker.unblock():
        primary = connections["default"]
        old_name = primary.settings_dict["NAME"]
        test_name = primary.creation.create_test_db(verbosity=0, autoclobber=True)
        cache.clear()
        # The cache has held read-your-writes positions for long (tests that empty it see how
        # the router treats a cache that just started).
        cache.set(state.SINCE_KEY, 0.0, timeout=None)
        for alias in connections:
            connections[alias].settings_dict["NAME"] = test_name
            connections[alias].close()
        for alias in settings.REPLICA_ALIASES:
            wait_for_standby(alias)
    yield
    with django_db_blocker.unblock():
        connections.close_all()
        primary.creation.destroy_test_db(old_name, verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_routing_state():
    """Each test starts as a new unit of work with no knowledge of standby health or tokens."""
    from users.authentication import tokens

    forgets = (
        state.reset, replicas.reset, tokens.clear, deadline.reset, shared_cache.reset,
        redis_cache.reset,
    )  # fmt: skip
    for forget in forgets:
        forget()
    yield
    for forget in forgets:
        forget()


@pytest.fixture
def api():
    """``api(user)``: an APIClient authenticated with a fresh token of ``user`` (or anonymous)."""
    from rest_framework.test import APIClient

    from users.models import ApiToken

    def make(user=None, *, scheme: str = "Bearer") -> APIClient:
        # CSRF checks on, as for any real client (Django's test client skips them by default).
        client = APIClient(SERVER_NAME="localhost", enforce_csrf_checks=True)
        if user is not None:
            _, key = ApiToken.issue(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
        return client

    return make


@pytest.fixture
def tenant_a():
    from core.tests.factories import ClientFactory

    return ClientFactory(name="Tenant A")


@pytest.fixture
def tenant_b():
    from core.tests.factories import ClientFactory

    return ClientFactory(name="Tenant B")


@pytest.fixture
def admin_a(tenant_a):
    from users.tests.factories import UserFactory

    return UserFactory(client=tenant_a, role="admin")


@pytest.fixture
def user_a(tenant_a):
    from users.tests.factories import UserFactory

    return UserFactory(client=tenant_a, role="user")


@pytest.fixture
def viewer_a(tenant_a):
    from users.tests.factories import UserFactory

    return UserFactory(client=tenant_a, role="viewer")


@pytest.fixture
def admin_b(tenant_b):
    from users.tests.factories import UserFactory

    return UserFactory(client=tenant_b, role="admin")
