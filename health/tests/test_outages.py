"""The health endpoints while a real server is stopped or really lagging."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connections

from core.db.config import parse_database_url
from core.db.state import request_scope
from core.models import Client
from core.testing import server_stopped, standby_delay, wait_for_standby, wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.embedded,
]

PROBE_BUDGET_SECONDS = 5.0
BASE_DIR = Path(__file__).resolve().parents[2]


def test_every_connection_gives_up_connecting_within_seconds():
    for alias, entry in django_settings.DATABASES.items():
        assert 0 < int(entry["OPTIONS"]["connect_timeout"]) <= 5, alias


def test_standby_stopped_is_degraded_but_ready_then_healthy_again(client, settings):
    settings.REPLICA_RETRY_SECONDS = 1
    with server_stopped(standby=True):
        ml = client.get("/health/ml")
        ready = client.get("/health/ready")
        database = client.get("/health/database")
        assert ml.status_code == 200
        assert ml.json()["status"] == "degraded"
        assert ml.json()["replica_connection"] == "unreachable"
        assert ml.json()["replica_lag_seconds"] is None
        assert ml.json()["served_by"] == "ml_primary"
        assert ml.json()["pgvector"]["available"] is True
        assert ml.json()["reasons"] == ["replica unreachable"]
        assert ready.status_code == 200
        assert ready.json()["ready"] is True
        assert ready.json()["status"] == "degraded"
        assert ready.json()["reads_from"] == "default"
        assert database.status_code == 200
        assert database.json()["status"] == "degraded"
        assert database.json()["served_by"] == "default"
        assert database.json()["replica"]["status"] == "unreachable"
    # The router's prober lets the standby back once it answers.
    assert wait_until(lambda: client.get("/health/ml").json()["status"] == "healthy", timeout=10)
    ml = client.get("/health/ml").json()
    assert ml["status"] == "healthy"
    assert ml["replica_connection"] == "ok"
    assert ml["served_by"] == "ml"
    assert client.get("/health/database").json()["served_by"] == "replica"


def test_standby_lagging_past_the_threshold_is_degraded_with_its_lag(client, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 1
    with standby_delay(4):
        with request_scope():
            Client.objects.create(name="lag-probe")
        # The standby holds that commit back: its replay lag grows past 1 s.
        assert wait_until(
            lambda: client.get("/health/ml").json()["status"] == "degraded", timeout=10
        )
        ml = client.get("/health/ml")
        database = client.get("/health/database")
        ready = client.get("/health/ready")
    assert ml.status_code == 200
    assert ml.json()["status"] == "degraded"
    assert ml.json()["replica_connection"] == "lagging"
    assert ml.json()["replica_lag_seconds"] > 1
    assert ml.json()["served_by"] == "ml_primary"
    assert ml.json()["reasons"][0].startswith("replica lagging")
    assert database.json()["status"] == "degraded"
    assert database.json()["replica"]["status"] == "lagging"
    assert database.json()["replica"]["lag_seconds"] > 1
    assert database.json()["served_by"] == "default"
    assert ready.status_code == 200


def test_primary_stopped_is_not_ready_and_unhealthy(client):
    with request_scope():
        Client.objects.create(name="before-outage")
    wait_for_standby()
    with server_stopped(standby=False):
        started = time.monotonic()
        ready = client.get("/health/ready")
        database = client.get("/health/database")
        ml = client.get("/health/ml")
        elapsed = time.monotonic() - started
        with pytest.raises(CommandError) as raised:
            call_command("healthcheck", "--scope", "ready", stdout=io.StringIO())
    assert elapsed < PROBE_BUDGET_SECONDS
    assert ready.status_code == 503
    assert ready["Retry-After"]
    assert ready.json()["ready"] is False
    assert ready.json()["primary"]["status"] == "unreachable"
    assert ready.json()["reasons"][0] == "primary unreachable"
    # The truth during the outage: the standby serves reads, and it is not behind anything it
    # could have (nothing received is left to replay), only cut off from its primary.
    assert ready.json()["reads_from"] == "replica"
    [standby] = ready.json()["replica"]["standbys"]
    assert (standby["lag_seconds"], standby["streaming"]) == (0.0, False)
    assert ready.json()["reasons"][1:] == [
        "replica not streaming from the primary (it has replayed all it received)"
    ]
    assert database.status_code == 503
    assert database.json()["status"] == "unhealthy"
    assert database.json()["error"] == "primary unreachable"
    # Reads still work: the standby answered the report.
    assert database.json()["served_by"] == "replica"
    assert database.json()["database_connection"] == "read_only"
    # ML reads are served by the standby: the ML report is not unhealthy.
    assert ml.status_code == 200
    assert ml.json()["served_by"] == "ml"
    assert str(raised.value) == "unhealthy: primary unreachable"


def test_healthcheck_process_exits_1_with_one_line_and_no_traceback():
    with server_stopped(standby=False):
        finished = subprocess.run(
            [sys.executable, "manage.py", "healthcheck", "--scope", "ready"],
            cwd=BASE_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    assert (
        finished.stderr.strip().splitlines()[-1] == "CommandError: unhealthy: primary unreachable"
    )
    assert "ready     unhealthy" in finished.stdout


@pytest.fixture
def credentials_in_the_url():
    """Every alias connects as a dedicated user with a password, as from a DATABASE_URL."""
    primary = connections["default"].settings_dict
    url = (
        f"postgresql://health_probe_owner:S3cret-Pa55w0rd@/{primary['NAME']}"
        f"?host={primary['HOST']}&port={primary['PORT'] or 5432}"
    )
    parsed = parse_database_url(url, variable="DATABASE_URL")
    with connections["default"].cursor() as cursor:
        cursor.execute("CREATE ROLE health_probe_owner LOGIN SUPERUSER PASSWORD 'S3cret-Pa55w0rd'")
    wait_for_standby()
    saved = {alias: dict(connections[alias].settings_dict) for alias in connections}
    for alias in connections:
        connections[alias].close()
        connections[alias].settings_dict.update(USER=parsed["USER"], PASSWORD=parsed["PASSWORD"])
    yield parsed
    for alias in connections:
        connections[alias].close()
        connections[alias].settings_dict.update(saved[alias])
    with connections["default"].cursor() as cursor:
        cursor.execute("DROP ROLE health_probe_owner")


def all_health_output(client) -> list[str]:
    """The bodies of every endpoint and the command's text and JSON output (and its error)."""
    outputs = [
        client.get(path).content.decode()
        for path in ("/health", "/health/ready", "/health/database", "/health/ml")
    ]
    for arguments in (["--json"], []):
        stdout = io.StringIO()
        try:
            call_command("healthcheck", *arguments, stdout=stdout)
        except CommandError as exc:
            outputs.append(str(exc))
        outputs.append(stdout.getvalue())
    return outputs


def test_no_host_user_password_or_socket_in_any_output(client, credentials_in_the_url):
    secrets = [
        credentials_in_the_url["PASSWORD"],
        credentials_in_the_url["USER"],
        credentials_in_the_url["HOST"],
        str(django_settings.EMBEDDED_DB_DIR),
        ".s.PGSQL",
    ]
    connections["default"].ensure_connection()
    assert connections["default"].connection.info.user == "health_probe_owner"
    outputs = all_health_output(client)
    with server_stopped(standby=False):
        outputs += all_health_output(client)
    with server_stopped(standby=True):
        outputs += all_health_output(client)
    assert json.loads(outputs[2])["status"] == "healthy"
    for output in outputs:
        for secret in secrets:
            assert secret not in output
