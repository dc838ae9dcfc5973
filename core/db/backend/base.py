"""Django's PostgreSQL backend, with a cheaper connection health check and bounded set-up.

With ``CONN_HEALTH_CHECKS``, Django runs ``SELECT 1`` on a reused connection before its first
query of each request: a round trip to the server on every request, for every alias used.
An idle session's socket has nothing to read unless the server is going away (a shutting-down
server's farewell, or the end of the stream once it is gone), so one ``poll()`` with no wait
tells the usual case apart; when something did arrive, the full check runs.

Opening a session during a request is bounded by the request's deadline, like its queries
(``core.db.deadline``): behind PgBouncer, the server may not answer Django's own set-up queries.

A migration that runs in a transaction waits at most ``MIGRATION_LOCK_TIMEOUT_MS`` for each lock
(``SET LOCAL``, so that the setting ends with the transaction, behind a pooler too): an ``ALTER
TABLE`` waiting behind a long query would otherwise queue every other query of that table behind
itself. ``migrate`` retries a migration refused that way. The API's ``statement_timeout`` (30 s)
does not apply to migrations: a data migration over a large table may take longer.
"""

from __future__ import annotations

import select

from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresSchemaEditor
from psycopg import pq

from core.db import replicas
from core.db.deadline import armed
from core.db.state import current


class DatabaseSchemaEditor(PostgresSchemaEditor):
    def __enter__(self):
        editor = super().__enter__()
        if self.atomic_migration and self.connection.in_atomic_block and not self.collect_sql:
            with self.connection.cursor() as cursor:
                timeout = f"{settings.MIGRATION_LOCK_TIMEOUT_MS}ms"
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true), "
                    "set_config('statement_timeout', '0', true)",
                    [timeout],
                )
        return editor


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
    _setup_deadline: float | None = None
    _setup_alarm = None

    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        if raw.info.transaction_status == pq.TransactionStatus.IDLE and hasattr(select, "poll"):
            try:
                poller = select.poll()
                poller.register(raw.fileno(), select.POLLIN)
                if not poller.poll(0):
                    return True
            except (OSError, ValueError):
                return False
        return super().is_usable()

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        seconds = self._setup_deadline
        if seconds is not None:
            # Setting the session up (Django's own queries, pgvector's type lookup) waits on the
            # server like any query: PgBouncer may still be trying to reach it.
            probing = current().probing
            self._setup_alarm = armed(
                connection,
                seconds,
                server=None if probing else replicas.server_for(self.alias),
                probe=None if probing else replicas.sign_of_life(self.alias),
            )
            self._setup_alarm.__enter__()
        return connection

    def connect(self) -> None:
        self._setup_deadline = current().read_deadline
        try:
            super().connect()
        finally:
            alarm, self._setup_alarm = getattr(self, "_setup_alarm", None), None
            if alarm is not None:
                alarm.__exit__(None, None, None)
