"""Remembered tokens against committed changes: another process's, and a lagging standby."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.testing import standby_delay, suite_database_environment
from users.models import ApiToken
from users.tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.embedded,
]

ROOT = Path(__file__).resolve().parents[2]
BODY = {"key": "K-1", "summary": "s"}


def in_another_process(code: str) -> None:
    """Run ``code`` in a new Django process on the same test database and shared cache."""
    environment = suite_database_environment()
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_a_change_committed_by_another_process_applies_to_the_next_request(api, tenant_a):
    writer = UserFactory(client=tenant_a, role="user")
    client = api(writer)
    assert client.post("/api/issues", BODY, format="json").status_code == 201  # remembered
    in_another_process(
        "from users.models import User\n"
        f"user = User.objects.get(pk={writer.pk})\n"
        "user.role = 'viewer'\n"
        "user.save()\n"
    )
    assert client.post("/api/issues", {**BODY, "key": "K-2"}, format="json").status_code == 403
    in_another_process(
        f"from users.models import ApiToken; ApiToken.objects.filter(user_id={writer.pk}).delete()"
    )
    assert client.get("/api/issues").status_code == 401


def test_a_revocation_is_seen_while_the_standby_lags(api, tenant_a):
    holder = UserFactory(client=tenant_a)
    token, key = ApiToken.issue(user=holder)
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/issues").status_code == 200  # remembered
    with standby_delay(30):
        token.delete()
        # The standby still holds the token for 30 s; the lookup asks the primary.
        assert client.get("/api/issues").status_code == 401
        assert client.get("/api/issues").status_code == 401
