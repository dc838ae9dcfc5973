"""Retry on the primary a read whose standby died under it, so replica loss never reaches a caller.

An execute wrapper is installed on every standby connection (``ml`` included) when it
connects. When a query fails because the standby failed (the connection broke, the server is
shutting down, or replay cancelled the read; not a timeout or a bad query), the standby is marked
down and the same statement is run on the primary; the caller's cursor is given the primary's
result.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import OperationalError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from core.db import replicas
from core.db.state import current

logger = logging.getLogger(__name__)


def _standby_of(alias: str) -> str | None:
    if alias in settings.REPLICA_ALIASES:
        return alias
    if alias == "ml":
        return replicas.ml_server()
    return None


# SQLSTATEs that mean the standby (not the query) failed: connection exceptions (08), the server
# shutting down or restarting (57P01-57P03), and a recovery conflict cancelling the read (40001).
STANDBY_GONE_STATES = ("08", "57P01", "57P02", "57P03", "40001")


def standby_failed(connection, error: OperationalError) -> bool:
    """True when ``error`` on a standby connection means the standby, not the query, failed."""
    raw = connection.connection
    if raw is None or raw.closed or raw.broken:
        return True
    sqlstate = getattr(error.__cause__, "sqlstate", None) or ""
    return sqlstate.startswith(STANDBY_GONE_STATES)


def abandon_standby(connection, error: OperationalError) -> str | None:
    """After ``error`` on ``connection``: if its standby failed, mark it down, close the session
    and return the primary alias to re-run the read on; else None (the error stands).
    """
    server = _standby_of(connection.alias)
    if server is None or not standby_failed(connection, error):
        return None
    replicas.mark_down(server, "connection lost during a query")
    fallback = "ml_primary" if connection.alias == "ml" else "default"
    logger.warning("standby %s lost mid-query; read retried on %s", server, fallback)
    current().note_read(fallback)
    connection.close()
    return fallback


def retry_on_primary(execute, sql, params, many, context):
    """Execute wrapper: run the statement; if the standby is gone, run it on the primary."""
    try:
        return execute(sql, params, many, context)
    except OperationalError as error:
        connection = context["connection"]
        # Inside a transaction the whole unit must be re-run, which only its owner can do.
        fallback = None if connection.in_atomic_block else abandon_standby(connection, error)
        if fallback is None:
            raise
    primary_cursor = connections[fallback].cursor()
    if many:
        primary_cursor.executemany(sql, params)
    else:
        primary_cursor.execute(sql, params)
    # The caller fetches from this wrapper's DB-API cursor: hand it the primary's.
    context["cursor"].cursor = primary_cursor.cursor
    return None


@receiver(connection_created)
def install_failover(sender, connection, **kwargs) -> None:
    """Give each new standby connection the failover wrapper (once)."""
    if _standby_of(connection.alias) and retry_on_primary not in connection.execute_wrappers:
        connection.execute_wrappers.append(retry_on_primary)
