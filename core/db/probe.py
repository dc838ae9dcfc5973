"""A time-bounded read on one alias's own server: what health checks ask each server.

Probes run on the raw connection of the alias they check, not through Django's cursor: the
standby guard there would give up on a failing standby and have the request re-run elsewhere,
and a health report must say what the server itself answered. Every probe runs in a short
transaction with a local ``statement_timeout`` and under the read deadline, and connecting is
bounded by ``connect_timeout`` (DATABASES OPTIONS), so a probe of a dead or stuck server returns
within a few seconds.

Nothing here reports an exception's message: psycopg's messages name hosts, socket paths and
users. Failures are summarised as "unreachable" or "query failed (<error class>)".
"""

from __future__ import annotations

import logging

import psycopg
from django.db import DatabaseError, connections

from core.db.deadline import armed
from core.db.state import probe_scope

logger = logging.getLogger(__name__)

PROBE_STATEMENT_TIMEOUT_MS = 3000
# A server that does not answer at all (stopped, or PgBouncer still trying to reach it) is cut
# off a little after a slow query would have been stopped by the server itself.
PROBE_DEADLINE_SECONDS = PROBE_STATEMENT_TIMEOUT_MS / 1000 + 0.5
PRIMARY = "default"
UNREACHABLE = "unreachable"
# A stock PgBouncer refuses libpq ``options``; its message names no host.
POOLER_REFUSAL = "unsupported startup parameter"
POOLER_REFUSED = (
    "refused the session settings sent at connection start (behind PgBouncer in transaction "
    "mode, set DATABASE_POOL_MODE=transaction)"
)


class ProbeFailed(Exception):
    """The server behind an alias did not answer a probe; ``reason`` is safe to show."""

    def __init__(self, alias: str, reason: str) -> None:
        super().__init__(f"{alias}: {reason}")
        self.alias = alias
        self.reason = reason

    @property
    def unreachable(self) -> bool:
        return self.reason == UNREACHABLE


def fetch(alias: str, sql: str, params: list | tuple | None = None) -> list[tuple]:
    """Run one read on the server behind ``alias`` itself, time-bounded; raise ProbeFailed.

    A persistent connection that went stale (its server restarted) is reopened once; a fresh
    connection that fails is not retried, so a dead server costs one ``connect_timeout``.
    """
    connection = connections[alias]
    attempts = 2 if connection.connection is not None else 1
    for _ in range(attempts):
        try:
            with probe_scope(PROBE_DEADLINE_SECONDS):  # PgBouncer may wait for the server
                connection.ensure_connection()
            raw = connection.connection
            with (
                armed(raw, PROBE_DEADLINE_SECONDS),
                raw.transaction(),
                raw.cursor() as cursor,
            ):
                cursor.execute(f"SET LOCAL statement_timeout = {PROBE_STATEMENT_TIMEOUT_MS}")
                cursor.execute(sql, params)
                return cursor.fetchall()
        except (DatabaseError, psycopg.Error) as exc:
            logger.warning("health probe on %s failed: %s", alias, type(exc).__name__)
            if POOLER_REFUSAL in str(exc):
                failure = POOLER_REFUSED
                break
            raw = connection.connection
            if raw is not None and not raw.closed and not raw.broken:
                # The server answered with an error (a timeout...): reconnecting will not help.
                failure = f"query failed ({type(exc).__name__})"
                break
            failure = UNREACHABLE
            connection.close()
    raise ProbeFailed(alias, failure)
