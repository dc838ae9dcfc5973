"""Health names an alias whose session settings differ from the documented ones, and a cache
that does not answer; the ``session_settings`` command says the same.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from core.db.session_settings import same_value
from core.testing import use_file_cache

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ALIASES = ["default", "replica", "ml", "ml_primary"]


def test_every_alias_has_its_documented_settings(client):
    body = client.get("/health/database").json()
    assert body["status"] == "healthy", body["reasons"]
    assert body["session_settings"] == {
        "status": "ok",
        "checked": ALIASES,
        "unreachable": [],
        "differences": [],
    }
    out = io.StringIO()
    call_command("session_settings", stdout=out)
    assert [line.split()[:2] for line in out.getvalue().splitlines()] == [
        [alias, "ok"] for alias in ALIASES
    ]


def test_a_setting_that_differs_is_degraded_naming_the_alias_and_setting(client, settings):
    documented = settings.DATABASE_SESSION_SETTINGS
    settings.DATABASE_SESSION_SETTINGS = {
        **documented,
        "ml": {**documented["ml"], "work_mem": "512MB"},
        "replica": {**documented["replica"], "lock_timeout": "250ms"},
    }
    response = client.get("/health/database")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert "ml: work_mem is 262144kB, expected 512MB" in body["reasons"]
    assert "replica: lock_timeout is 500ms, expected 250ms" in body["reasons"]
    assert body["session_settings"]["status"] == "differs"
    assert {(d["alias"], d["setting"]) for d in body["session_settings"]["differences"]} == {
        ("ml", "work_mem"),
        ("replica", "lock_timeout"),
    }
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 alias"):
        call_command("session_settings", stdout=out)
    assert "ml             work_mem is 262144kB, expected 512MB" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("healthcheck", "--scope", "database", "--strict", stdout=io.StringIO())


def test_apply_with_direct_connections_has_nothing_to_do():
    out = io.StringIO()
    call_command("session_settings", "--apply", stdout=out)
    assert "DATABASE_POOL_MODE=session" in out.getvalue()


@pytest.mark.parametrize(
    ("expected", "reset_val", "unit", "same"),
    [
        ("30000ms", "30000", "ms", True),
        ("30s", "30000", "ms", True),
        ("300s", "300000", "ms", True),
        ("5min", "300000", "ms", True),
        ("256MB", "262144", "kB", True),
        ("128MB", "16384", "8kB", True),
        ("on", "on", "", True),
        ("on", "off", "", False),
        ("1.1", "1.1", "", True),
        ("1.1", "4", "", False),
        ("500ms", "0", "ms", False),
    ],
)
def test_values_compare_in_their_units(expected, reset_val, unit, same):
    assert same_value(expected, reset_val, unit) is same


def test_a_cache_that_does_not_answer_makes_readiness_degraded_but_ready(client, settings):
    response = client.get("/health/ready")
    assert response.json()["caches"] == {
        "default": {"status": "ok", "shared": False},
        "throttle": {"status": "ok", "shared": False},
    }
    use_file_cache(settings, "default", "/proc/no-cache-here")
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200
    assert body["ready"] is True
    assert body["status"] == "degraded"
    assert body["reasons"] == ["shared cache unreachable or refusing writes"]
    assert body["caches"]["default"]["status"] == "unreachable"
