"""A request whose server fails under it: re-run elsewhere when it only reads, 503 when it writes.

The standby session is ended under the request on purpose (``pg_terminate_backend``), after the
router last checked the standby, as when a standby dies between two requests.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from django.db import connections

from core.db import replicas
from core.testing import server_stopped, wait_for_standby
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

VECTOR = [((i * 7) % 13) / 13 for i in range(1536)]


def end_standby_sessions(alias: str = "replica") -> None:
    """End every session of this process on ``alias``'s standby, behind the router's back."""
    connections[alias].ensure_connection()
    pid = connections[alias].connection.info.backend_pid
    other = "ml" if alias == "replica" else "replica"  # another session on the same standby
    with connections[other].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    server = replicas.server_for(alias)
    replicas.health(server).lag_seconds = 0.0
    replicas.health(server).lag_checked_at = time.monotonic() + 60  # as if checked just now


def test_a_read_whose_standby_fails_is_re_run_and_answers(api, user_a, tenant_a):
    issue = IssueFactory(client=tenant_a)
    client = api(user_a)
    wait_for_standby()
    assert client.get(f"/api/issues/{issue.pk}").status_code == 200
    end_standby_sessions()
    response = client.get(f"/api/issues/{issue.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == issue.pk
    routing = response.wsgi_request.db_routing
    assert routing.attempts == 1
    assert routing.read_aliases[0] == "replica"
    assert routing.read_aliases[-1] == "default"
    assert replicas.is_down("replica")


def test_a_search_that_posts_its_vector_is_a_read_and_is_re_run_with_its_body(
    api, user_a, tenant_a
):
    IssueFactory(client=tenant_a, embedding=VECTOR)
    client = api(user_a)
    wait_for_standby()
    search = {"embedding": VECTOR, "limit": 5}
    first = client.post("/api/issues/similar", search, format="json")
    assert first.status_code == 200
    assert first.wsgi_request.db_routing.read_aliases == ["ml"]  # a read: the ML standby
    end_standby_sessions("ml")
    again = client.post("/api/issues/similar", search, format="json")
    assert again.status_code == 200
    assert again.json()["count"] == 1
    assert again.wsgi_request.db_routing.attempts == 1


def test_a_re_run_is_counted_once_by_the_rate_limit(api, user_a, tenant_a, settings):
    settings.API_THROTTLE_USER = "2/hour"
    caches["throttle"].clear()
    issue = IssueFactory(client=tenant_a)
    client = api(user_a)
    wait_for_standby()
    assert client.get(f"/api/issues/{issue.pk}").status_code == 200
    end_standby_sessions()
    # The second request runs twice; counted twice, its re-run would be refused.
    second = client.get(f"/api/issues/{issue.pk}")
    assert second.status_code == 200
    assert second.wsgi_request.db_routing.attempts == 1
    assert client.get(f"/api/issues/{issue.pk}").status_code == 429


def test_a_request_that_writes_reads_what_it_validates_from_the_primary(api, user_a, tenant_a):
    from projects.tests.factories import ProjectFactory

    project = ProjectFactory(client=tenant_a)
    wait_for_standby()
    response = api(user_a).post(
        "/api/issues", {"key": "P-1", "summary": "s", "project_id": project.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.wsgi_request.db_routing.read_aliases == ["default"]


def test_a_write_whose_primary_is_down_answers_503_and_is_not_re_run(api, user_a):
    client = api(user_a)
    client.get("/api/issues")  # authenticated, connections open
    wait_for_standby()
    with server_stopped(standby=False):
        response = client.post("/api/issues", {"key": "LOST-1", "summary": "s"}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.wsgi_request.db_routing.attempts == 0
