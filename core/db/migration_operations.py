"""Migration operations an operator can run on a live database.

- ``CreateVectorExtension``: pgvector is not a trusted extension, so only a superuser (or a role
  granted the right) may create it. The service's role usually may not: then ``migrate`` stops
  with one line giving the exact statement for a DBA, instead of PostgreSQL's error.
- ``AddIndexConcurrently``: ``CREATE INDEX CONCURRENTLY``, so a large table keeps taking writes
  while its index is built (an HNSW index over a million embeddings takes minutes). It is safe
  to run again: an index that already exists is kept, and the invalid leftover of a build that
  failed (a concurrent build leaves one behind) is dropped and built again. Its migration must
  say ``atomic = False``, and hold nothing else: a non-atomic migration that fails half-way is
  not rolled back. The build is not bound by the API's ``statement_timeout`` (an HNSW index over
  a million rows takes far longer than 30 s): it turns the session's off for the build, which
  needs a session of its own. Behind PgBouncer in transaction mode the statements of a session
  may reach different servers: there an index on a table that holds rows is refused with one
  line (run ``migrate`` over a direct connection to the primary).

Every other migration runs in one transaction that waits at most ``MIGRATION_LOCK_TIMEOUT_MS``
for each lock it takes (``core.db.backend``): an ``ALTER TABLE`` queued behind a long query
would otherwise hold up every read and write of that table behind it. ``migrate`` retries a
migration refused that way (core/management/commands/migrate.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres import operations as postgres
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.db.migrations.operations.base import Operation

from core.db.failover import sqlstate

INSUFFICIENT_PRIVILEGE = "42501"


class MissingExtension(CommandError):
    """The extension is not there, and this role may not create it."""


class CreateVectorExtension(Operation):
    """``CREATE EXTENSION vector``, or one line telling the operator what a DBA must run."""

    reversible = True
    name = "vector"

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [self.name])
            if cursor.fetchone():
                return
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {self.name}")
            except DatabaseError as error:
                if sqlstate(error) != INSUFFICIENT_PRIVILEGE:
                    raise
                cursor.execute("SELECT current_user, current_database()")
                role, database = cursor.fetchone()
                raise MissingExtension(
                    f'the "{self.name}" extension is missing and role "{role}" may not create '
                    f'it; a DBA must run, in database "{database}": '
                    f"CREATE EXTENSION {self.name};"
                ) from None

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        # Kept: other databases' objects may use the type, and dropping needs the DBA again.
        pass

    def describe(self) -> str:
        return f"Creates extension {self.name} (or says what a DBA must run)"


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY``, safe to run again (see the module)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
                [self.index.name],
            )
            found = cursor.fetchone()
            if found is not None and found[0]:
                return
            if settings.DATABASE_POOL_MODE == "transaction":
                # No session of our own for the build: fine on an empty table only.
                cursor.execute(f"SELECT EXISTS (SELECT FROM {model._meta.db_table})")
                if cursor.fetchone()[0]:
                    raise CommandError(
                        f"index {self.index.name} is built on a table that holds rows: run "
                        "migrate over a direct connection to the primary "
                        "(DATABASE_POOL_MODE=session), not through a transaction pooler"
                    )
                self._build(schema_editor, model, leftover=found is not None)
                return
            cursor.execute("SHOW statement_timeout")
            [timeout] = cursor.fetchone()
            cursor.execute("SET statement_timeout = 0")
            try:
                self._build(schema_editor, model, leftover=found is not None)
            finally:
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [timeout])

    def _build(self, schema_editor, model, *, leftover: bool) -> None:
        if leftover:  # the invalid index of a build that failed
            with schema_editor.connection.cursor() as cursor:
                name = schema_editor.quote_name(self.index.name)
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.add_index(model, self.index, concurrently=True)
