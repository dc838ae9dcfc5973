"""What clients see when the database, or the routing cache, misbehaves."""

import json

import pytest
from django.db import OperationalError, connections, transaction

from core.db.middleware import database_error_response
from core.testing import use_file_cache

pytestmark = pytest.mark.django_db


def test_a_query_stopped_by_statement_timeout_says_so():
    with (
        pytest.raises(OperationalError) as stopped,
        transaction.atomic(),
        connections["default"].cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = 50")
        cursor.execute("SELECT pg_sleep(2)")
    response = database_error_response(stopped.value)
    assert response.status_code == 503
    assert "too long" in json.loads(response.content)["detail"]
    assert "Retry-After" not in response


def test_an_unwritable_routing_cache_never_turns_a_write_into_an_error(api, user_a, settings):
    use_file_cache(settings, "default", "/proc/no-cache-here")
    client = api(user_a)
    response = client.post("/api/issues", {"key": "C-1", "summary": "kept"}, format="json")
    assert response.status_code == 201
    assert client.get(f"/api/issues/{response.json()['id']}").status_code == 200
