"""What the health endpoints tell whom: the status to anyone, the report to operators."""

import pytest
from django.test import Client as HttpClient

from users.models import ApiToken
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

REPORTS = ("/health/ready", "/health/database", "/health/ml")


@pytest.mark.parametrize("path", REPORTS)
def test_anonymous_probes_get_the_status_and_nothing_of_the_inside(path):
    response = HttpClient().get(path)
    assert response.status_code == 200
    body = response.json()
    assert set(body) <= {"status", "ready", "timestamp", "details"}
    assert body["status"] in ("healthy", "degraded")
    assert "operators" in body["details"]


@pytest.mark.parametrize("path", REPORTS)
def test_a_token_that_is_not_an_operators_gets_the_same(path, user_a, admin_a):
    for user in (user_a, admin_a):  # a client's admin is not a platform operator
        _, key = ApiToken.issue(user=user)
        body = HttpClient(HTTP_AUTHORIZATION=f"Bearer {key}").get(path).json()
        assert "replica" not in body and "vector_columns" not in body and "pgvector" not in body
    body = HttpClient(HTTP_AUTHORIZATION="Bearer not-a-token").get(path).json()
    assert set(body) <= {"status", "ready", "timestamp", "details"}


def test_an_operators_token_gets_the_whole_report(tenant_a):
    operator = UserFactory(client=tenant_a, is_staff=True)
    _, key = ApiToken.issue(user=operator)
    body = HttpClient(HTTP_AUTHORIZATION=f"Bearer {key}").get("/health/database").json()
    assert {"vector_columns", "replica", "primary", "session_settings"} <= set(body)


def test_liveness_is_the_same_for_everyone():
    assert HttpClient().get("/health").json() == {"status": "ok"}
