"""Start-up configuration: malformed environment stops with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.db.config import build_databases, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://u:secret@host/db"),
        ("DATABASE_URL", "postgresql://u:secret@host:notaport/db"),
        ("DATABASE_URL", "postgresql://u:secret@host:5432/"),
        ("REPLICA_DATABASE_URLS", "postgresql://u:secret@host/db,nonsense"),
        ("CACHE_URL", "nosuchcache://x"),
    ],
)
def test_malformed_url_is_one_line_naming_the_variable(variable, value):
    env = {"DATABASE_URL": "postgresql://u:secret@db.example/app", variable: value}
    result = run_manage("check", **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONN_MAX_AGE", "sixty"),
        ("DB_STATEMENT_TIMEOUT_MS", "1.5"),
        ("API_TRUSTED_PROXIES", "-1"),
        ("API_TOKEN_CACHE_SECONDS", "nan"),
        ("REPLICA_MAX_LAG_SECONDS", "-5"),
    ],
)
def test_malformed_number_is_one_line_naming_the_variable(variable, value):
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_aliases_for_several_replicas():
    databases = build_databases(
        primary_url="postgresql://app:pw@primary:5432/app",
        replica_urls=["postgresql://app:pw@r1/app", "postgresql://app:pw@r2:6432/app"],
        conn_max_age=0,
        connect_timeout=3,
        statement_timeout_ms=1000,
    )
    assert list(databases) == ["default", "replica_1", "replica_2", "ml", "ml_primary"]
    assert databases["replica_2"]["PORT"] == "6432"
    assert databases["ml"]["HOST"] == "r1"
    assert "default_transaction_read_only=on" in databases["ml"]["OPTIONS"]["options"]
    assert "statement_timeout=300s" in databases["ml"]["OPTIONS"]["options"]
    assert databases["ml_primary"]["HOST"] == "primary"
    assert "default_transaction_read_only" not in databases["ml_primary"]["OPTIONS"]["options"]


def test_socket_urls_parse():
    entry = parse_database_url(
        "postgresql://postgres@/analytics?host=/tmp/run&port=5433", variable="X"
    )
    assert (entry["HOST"], entry["PORT"], entry["NAME"]) == ("/tmp/run", "5433", "analytics")


def test_error_never_echoes_the_url():
    with pytest.raises(ImproperlyConfigured) as error:
        parse_database_url("postgresql://u:topsecret@h:99999999/db", variable="DATABASE_URL")
    assert "topsecret" not in str(error.value)
