"""Migrations an operator can run: as the application's own role, on a live database.

The database here is one of its own on the embedded primary, owned by a role that is not a
superuser, as in production (docs/deployment.md).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import migrations as django_migrations
from django.db.migrations.loader import MigrationLoader
from pgvector.django import HnswIndex

from core.db.migration_operations import AddIndexConcurrently
from core.testing import embedded_servers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_database():
    """(superuser URL, application URL) of a fresh database owned by a fresh role."""
    embedded = embedded_servers()
    suffix = secrets.token_hex(4)
    role, database, password = f"ops_app_{suffix}", f"ops_db_{suffix}", secrets.token_hex(8)
    admin_url = embedded.url(embedded.primary)
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(f"CREATE DATABASE {database} OWNER {role}")
    superuser = admin_url.replace("/analytics?", f"/{database}?")
    app = superuser.replace("postgres@", f"{role}:{password}@")
    try:
        yield superuser, app, database
    finally:
        with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def manage(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` as a release job runs it: the production settings (manage.py's default
    with DATABASE_URL set), no standby."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REPLICA_", "MIGRATION_", "DB_"))
        and key not in ("SECRET_KEY", "DEBUG")
    }
    environment |= {"DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(50), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def hold_lock(url: str, table: str, seconds: float) -> threading.Thread:
    """A transaction holding ``table`` in ACCESS EXCLUSIVE mode for ``seconds`` (started)."""
    taken = threading.Event()

    def hold() -> None:
        with psycopg.connect(url) as connection:
            connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            taken.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    return thread


def scalar(url: str, sql: str):
    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchone()[0]


@pytest.mark.embedded
def test_migrate_as_the_applications_role(app_database):
    superuser, app, database = app_database

    # No vector extension, and no right to create it: one line with the DBA's statement.
    refused = manage(app, "migrate", "--noinput")
    assert refused.returncode != 0
    [line] = refused.stderr.strip().splitlines()
    assert line.endswith(f'a DBA must run, in database "{database}": CREATE EXTENSION vector;')

    # The DBA runs it (exactly as printed); then the role migrates everything by itself.
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute(line.rsplit(": ", 1)[1])
    migrated = manage(app, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    assert scalar(superuser, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0
    hnsw = scalar(
        superuser,
        "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING hnsw%'",
    )
    assert hnsw == 4

    # A migration that cannot get its lock in time is rolled back, then retried.
    assert manage(app, "migrate", "core", "0003").returncode == 0
    holder = hold_lock(superuser, "clients", 3.0)
    retried = manage(app, "migrate", "core", MIGRATION_LOCK_TIMEOUT_MS="300")
    holder.join()
    assert retried.returncode == 0, retried.stderr
    assert "waited more than 300 ms for a lock and was rolled back; retrying" in retried.stderr
    assert scalar(superuser, "SELECT to_regclass('idempotency_keys') IS NOT NULL")

    # Out of retries: one line, and what to look for.
    assert manage(app, "migrate", "core", "0003").returncode == 0
    holder = hold_lock(superuser, "clients", 4.0)
    gave_up = manage(
        app, "migrate", "core", MIGRATION_LOCK_TIMEOUT_MS="200", MIGRATION_LOCK_RETRIES="1"
    )
    holder.join()
    assert gave_up.returncode != 0
    assert gave_up.stderr.strip().splitlines()[-1].startswith("CommandError: a migration waited")
    assert "pg_stat_activity" in gave_up.stderr and "Traceback" not in gave_up.stderr
    assert scalar(superuser, "SELECT to_regclass('idempotency_keys') IS NULL")

    # Indexes built on a table that holds rows: a concurrent build that failed left an invalid
    # index, another was never built. The next run builds both, however long the HNSW build
    # takes against the API's statement_timeout.
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute("DROP INDEX issues_embedding_hnsw")
        admin.execute("INSERT INTO clients (name) VALUES ('Rows')")
        admin.execute(
            "INSERT INTO issues (client_id, key, summary, embedding) "
            "SELECT (SELECT id FROM clients WHERE name = 'Rows'), 'ROW-' || n, 'a row', "
            "(SELECT array_agg(random())::vector(1536) FROM generate_series(1, 1536) "
            "WHERE n > 0) FROM generate_series(1, 1500) AS n"
        )
        admin.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'issues_sync_idx'::regclass"
        )
        admin.execute(
            "DELETE FROM django_migrations WHERE app = 'issues' "
            "AND name = '0005_indexes_built_concurrently'"
        )
    # Behind a transaction pooler the build cannot have a session of its own: one line.
    pooled = manage(app, "migrate", "--noinput", DATABASE_POOL_MODE="transaction")
    assert pooled.returncode != 0
    assert pooled.stderr.strip().splitlines()[-1] == (
        "CommandError: index issues_embedding_hnsw is built on a table that holds rows: run "
        "migrate over a direct connection to the primary (DATABASE_POOL_MODE=session), not "
        "through a transaction pooler"
    )
    rebuilt = manage(app, "migrate", "--noinput", DB_STATEMENT_TIMEOUT_MS="200")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert scalar(superuser, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0
    assert scalar(superuser, "SELECT to_regclass('issues_sync_idx') IS NOT NULL")
    assert scalar(superuser, "SELECT to_regclass('issues_embedding_hnsw') IS NOT NULL")


def _project_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [
        migration
        for (app, _), migration in sorted(loader.disk_migrations.items())
        if (ROOT / app).is_dir()
    ]


def test_indexes_on_existing_tables_are_built_concurrently():
    """Past an app's initial migrations a table may hold millions of rows: an index added to it
    is built with CREATE INDEX CONCURRENTLY, in a migration of its own (non-atomic, nothing
    else in it). Every HNSW index is, wherever it is declared."""
    checked = 0
    for migration in _project_migrations():
        concurrent = [op for op in migration.operations if isinstance(op, AddIndexConcurrently)]
        if concurrent:
            assert migration.atomic is False, migration
            assert len(concurrent) == len(migration.operations), migration
            checked += len(concurrent)
        for operation in migration.operations:
            if isinstance(operation, django_migrations.AddIndex) and not isinstance(
                operation, AddIndexConcurrently
            ):
                assert migration.initial, f"{migration}: {operation.index.name} is not concurrent"
                assert not isinstance(operation.index, HnswIndex), migration
            if isinstance(operation, django_migrations.CreateModel):
                declared = operation.options.get("indexes", [])
                assert not any(isinstance(index, HnswIndex) for index in declared), migration
    assert checked >= 13  # the four HNSW indexes among them


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_wait_for_replay_holds_the_rollout_until_every_standby_has_the_migration():
    """The deploy order: migrate, wait_for_replay, then roll the instances."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    from core.testing import standby_delay
    from core.tests.factories import ClientFactory

    with standby_delay(4):
        ClientFactory(name="Written before the wait")
        with pytest.raises(CommandError, match=r"not replayed within 0.5 s: replica"):
            call_command("wait_for_replay", timeout=0.5)
        output = StringIO()
        started = time.monotonic()
        call_command("wait_for_replay", timeout=60, stdout=output)
        assert time.monotonic() - started > 1.0  # it really waited for the delayed standby
    assert output.getvalue().splitlines()[-1].startswith("replica: replayed ")
    with pytest.raises(CommandError, match="--timeout"):
        call_command("wait_for_replay", timeout=0)


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    """Every model change has its migration (hand-edited migrations included)."""
    from io import StringIO

    from django.core.management import call_command

    output = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=output)
    assert "No changes detected" in output.getvalue()
