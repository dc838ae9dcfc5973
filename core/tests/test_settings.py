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
        ("DATABASE_POOL_MODE", "statement"),
        ("REPLICA_READ_TIMEOUT", "0"),
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
        ("GUNICORN_WORKERS", "two"),
        ("GUNICORN_WORKERS", "0"),
        ("GUNICORN_WORKERS", "99999999999999999999"),  # gunicorn would fork until it could not
        ("DRAIN_SECONDS", "1e300"),
        ("DRAIN_SECONDS", "5s"),  # not 5
        ("REPLICA_MAX_LAG_SECONDS", "5 seconds"),
        ("CACHE_SOCKET_TIMEOUT", "0,25"),
        ("DEBUG", "maybe"),
        ("METRICS_TOKEN", "short"),  # guessable
        ("METRICS_TOKEN", "é-token-ü-long-enough-1234"),  # never matches what a header carries
        ("METRICS_TOKEN", "with a space in the middle"),
        ("MIGRATION_LOCK_TIMEOUT_MS", "0"),  # no timeout at all
        ("DB_STATEMENT_TIMEOUT_MS", "0"),
        ("DB_STATEMENT_TIMEOUT_MS", "99999999999999999999999"),
        ("CONN_MAX_AGE", "2147483648"),
        ("DRAIN_SECONDS", "-1"),
        ("DRAIN_SECONDS", "inf"),
        ("GRACEFUL_TIMEOUT", "1.5"),
        ("MIGRATION_LOCK_TIMEOUT_MS", "5s"),
        ("MIGRATION_LOCK_RETRIES", "-2"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/33"),
        ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-network"),
    ],
)
def test_malformed_number_is_one_line_naming_the_variable(variable, value):
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_a_security_switch_that_is_neither_true_nor_false_is_refused():
    """Not read as false: that would turn the HTTPS redirect off without a word."""
    import secrets

    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="perhaps",
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "configuration error: SECURE_SSL_REDIRECT must be true or false"
    ]


def test_an_allow_list_alone_behind_proxies_is_refused():
    """Behind proxies every connection comes from a proxy: the list would let anyone scrape."""
    result = run_manage(
        "check", METRICS_ALLOWED_NETWORKS="10.0.0.0/8", API_TRUSTED_PROXIES="1", METRICS_TOKEN=""
    )
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "METRICS_ALLOWED_NETWORKS" in line and "METRICS_TOKEN" in line
    allowed = run_manage(
        "check",
        METRICS_ALLOWED_NETWORKS="10.0.0.0/8",
        API_TRUSTED_PROXIES="1",
        METRICS_TOKEN="t" * 40,
    )
    assert allowed.returncode == 0, allowed.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_aliases_for_several_replicas():
    layout = build_databases(
        primary_url="postgresql://app:pw@primary:5432/app",
        replica_urls=["postgresql://app:pw@r1/app", "postgresql://app:pw@r2:6432/app"],
        conn_max_age=0,
        connect_timeout=3,
        statement_timeout_ms=1000,
    )
    databases = layout.databases
    assert list(databases) == ["default", "replica_1", "ml_1", "replica_2", "ml_2", "ml_primary"]
    assert layout.replica_aliases == ["replica_1", "replica_2"]
    assert layout.ml_aliases == ["ml_1", "ml_2"]
    assert databases["replica_2"]["PORT"] == "6432"
    assert (databases["ml_1"]["HOST"], databases["ml_2"]["HOST"]) == ("r1", "r2")
    for alias in ("ml_1", "ml_2", "ml_primary"):
        options = databases[alias]["OPTIONS"]["options"]
        assert "default_transaction_read_only=on" in options
        assert "statement_timeout=300s" in options
    assert databases["ml_primary"]["HOST"] == "primary"
    # Standby sessions give up on a lock well before the read deadline (1 s by default).
    assert "lock_timeout=500ms" in databases["replica_1"]["OPTIONS"]["options"]
    assert "lock_timeout" not in databases["default"]["OPTIONS"]["options"]
    assert layout.session_settings["ml_2"]["work_mem"] == "256MB"


def test_behind_pgbouncer_in_transaction_mode_nothing_is_sent_at_connection_start():
    layout = build_databases(
        primary_url="postgresql://app:pw@bouncer:6432/primary",
        replica_urls=["postgresql://app:pw@bouncer:6432/standby_1"],
        conn_max_age=60,
        connect_timeout=3,
        statement_timeout_ms=30_000,
        pool_mode="transaction",
        ml_user="app_ml",
        ml_password="ml-secret",
    )
    for alias, entry in layout.databases.items():
        assert "options" not in entry["OPTIONS"], alias
        assert entry["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert [layout.databases[a]["USER"] for a in ("default", "replica", "ml", "ml_primary")] == [
        "app",
        "app",
        "app_ml",
        "app_ml",
    ]
    assert layout.databases["ml"]["PASSWORD"] == "ml-secret"
    assert layout.session_settings["replica"] == {
        "statement_timeout": "30000ms",
        "lock_timeout": "500ms",
    }


def test_a_dedicated_ml_standby_comes_first_and_serves_no_api_reads():
    layout = build_databases(
        primary_url="postgresql://app:pw@primary/app",
        replica_urls=["postgresql://app:pw@r1/app"],
        ml_url="postgresql://app:pw@ml-host/app",
        conn_max_age=0,
        connect_timeout=3,
        statement_timeout_ms=1000,
    )
    assert [(s.name, s.read_alias, s.ml_alias) for s in layout.standbys] == [
        ("ml_dedicated", None, "ml_dedicated"),
        ("replica", "replica", "ml"),
    ]
    assert layout.databases["ml_dedicated"]["HOST"] == "ml-host"
    assert layout.replica_aliases == ["replica"]


def test_an_unknown_pool_mode_is_refused():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_MODE"):
        build_databases(
            primary_url="postgresql://app@h/app",
            replica_urls=[],
            conn_max_age=0,
            connect_timeout=3,
            statement_timeout_ms=1000,
            pool_mode="statement",
        )


def test_socket_urls_parse():
    entry = parse_database_url(
        "postgresql://postgres@/analytics?host=/tmp/run&port=5433", variable="X"
    )
    assert (entry["HOST"], entry["PORT"], entry["NAME"]) == ("/tmp/run", "5433", "analytics")


def test_error_never_echoes_the_url():
    with pytest.raises(ImproperlyConfigured) as error:
        parse_database_url("postgresql://u:topsecret@h:99999999/db", variable="DATABASE_URL")
    assert "topsecret" not in str(error.value)


def test_behind_a_pooler_one_role_for_api_and_ml_sessions_is_a_warning():
    pooled = {
        "DATABASE_URL": "postgresql://app:pw@bouncer:6432/primary",
        "REPLICA_DATABASE_URLS": "postgresql://app:pw@bouncer:6432/standby",
        "DATABASE_POOL_MODE": "transaction",
    }
    shared = run_manage("check", **pooled)
    assert "core.W002" in shared.stderr
    assert "ML_DATABASE_USER" in shared.stderr
    separate = run_manage("check", ML_DATABASE_USER="app_ml", ML_DATABASE_PASSWORD="x", **pooled)
    assert separate.returncode == 0, separate.stderr
    assert "core.W002" not in separate.stderr


def test_a_development_checkout_has_its_own_secret_key_and_demo_secrets(tmp_path):
    def secrets_of(folder) -> list[str]:
        result = run_manage(
            "shell",
            "-c",
            "from django.conf import settings; from demo.services import demo_password, "
            "demo_token_key; print(settings.SECRET_KEY, demo_password(), "
            "demo_token_key('operator@platform.demo.example'))",
            EMBEDDED_DB_DIR=str(folder),
            DATABASE_URL="postgresql://app@db.example/app",
            DEBUG="true",
            SECRET_KEY="",
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1].split()

    first = secrets_of(tmp_path / "one")
    assert secrets_of(tmp_path / "one") == first  # kept: the same after a restart
    other = secrets_of(tmp_path / "two")
    assert all(a != b for a, b in zip(first, other, strict=True))  # nothing shared
    assert len(first[0]) >= 50
    assert (tmp_path / "one" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert "development-only" not in first[0]


def test_a_service_on_external_databases_never_loads_the_development_tooling():
    """With DATABASE_URL set, neither the embedded PostgreSQL manager nor the topology harness
    (nor the wheel they run from) is imported by the settings, the URLs or the WSGI app."""
    code = (
        "import sys, django; django.setup(); import config.urls, config.wsgi; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('core.embedded', 'core.topology', 'pixeltable'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": "postgresql://u:secret@db.example/app",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
