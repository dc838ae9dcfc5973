"""Migration operations an operator can run on a live database.

- ``CreateVectorExtension``: pgvector is not a trusted extension, so only a superuser (or a role
  granted the right) may create it. The service's role usually may not: then ``migrate`` stops
  with one line giving the exact statement for a DBA, instead of PostgreSQL's error.
- ``AddIndexConcurrently``: ``CREATE INDEX CONCURRENTLY``, so a large table keeps taking writes
  while its index is built (an HNSW index over a million embeddings takes minutes). It is safe
  to run again: an index that already exists is kept, and the invalid leftover of a build that
  failed (a concurrent build leaves one behind) is dropped and built again. Its migration must
  say ``atomic = False``, and hold nothing else: a non-atomic migration that fails half-way is
  not rolled back.

Every other migration runs in one transaction that waits at most ``MIGRATION_LOCK_TIMEOUT_MS``
for each lock it takes (``core.db.backend``): an ``ALTER TABLE`` queued behind a long query
would otherwise hold up every read and write of that table behind it. ``migrate`` retries a
migration refused that way (core/management/commands/migrate.py).
"""

from __future__ import annotations

from django.contrib.postgres import operations as postgres
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.db.migrations.operations.base import Operation

INSUFFICIENT_PRIVILEGE = "42501"


def _sqlstate(error: BaseException) -> str | None:
    return getattr(getattr(error, "__cause__", None), "sqlstate", None)


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
                if _sqlstate(error) != INSUFFICIENT_PRIVILEGE:
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
            if found is not None:
                cursor.execute(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}"
                )
        schema_editor.add_index(model, self.index, concurrently=True)
