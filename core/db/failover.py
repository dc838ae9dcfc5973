"""Give up on a server that fails under a query, so the request can be re-run elsewhere or answered.

An execute wrapper is installed on every connection when it connects. It arms the current
request's deadline (``core.db.deadline``: a server that shows no sign of life for
``REPLICA_READ_TIMEOUT`` is cut off) and, when a query fails because its server failed rather
than the query (the connection broke, the server is shutting down, the deadline cut it off; on
a standby also replay cancelling the read or blocking it past ``lock_timeout``), marks the server
down and raises ``ServerUnavailable``. The routing middleware then re-runs a read-only request on
another server (``core.db.middleware``): a request, unlike a cursor, can be re-run from its start,
transactions and all. A request that writes answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, OperationalError
from django.db.backends.signals import connection_created

from core.db import replicas
from core.db.config import PRIMARY
from core.db.deadline import answered, armed
from core.db.state import current

logger = logging.getLogger(__name__)

# SQLSTATEs that mean the server (not the query) failed: connection exceptions (08, PgBouncer's
# 08P01 included) and the server shutting down or restarting (57P01-57P03).
SERVER_GONE_STATES = ("08", "57P01", "57P02", "57P03")
# On a standby, also: replay cancelled the read (40001, 40P01), or the read queued behind replay
# past lock_timeout (55P03). On the primary these are the query's own errors.
REPLAY_CONFLICT_STATES = ("40001", "40P01", "55P03")


class ServerUnavailable(OperationalError):
    """A query failed because its server did; the server is marked down."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"{server}: {reason}")
        self.server = server
        self.reason = reason


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE of a database error (Django's, wrapping the driver's, or the driver's own)."""
    return getattr(error.__cause__, "sqlstate", None) or getattr(error, "sqlstate", None) or ""


def failure_reason(
    connection, server: str, error: BaseException, *, cut_off: bool
) -> tuple[str, bool] | None:
    """Why the server behind ``connection`` failed, and whether replay did it; None when the
    query itself failed (a bad statement, a statement timeout): that error stands.
    """
    if cut_off:
        return "no answer within the deadline", False
    state = sqlstate(error)
    if server != PRIMARY and state.startswith(REPLAY_CONFLICT_STATES):
        return "replay cancelled or blocked a read", True
    raw = connection.connection
    if raw is None or raw.closed or raw.broken or state.startswith(SERVER_GONE_STATES):
        return "connection lost during a query", False
    return None


def give_up(connection, error: BaseException, *, cut_off: bool = False) -> None:
    """If ``error`` on ``connection`` means its server failed: mark the server down, close the
    session and raise ServerUnavailable. Otherwise return (the caller re-raises ``error``).
    """
    server = replicas.server_for(connection.alias)
    found = failure_reason(connection, server, error, cut_off=cut_off)
    if found is None:
        return
    reason, replay_conflict = found
    replicas.mark_down(server, reason, replay_conflict=replay_conflict)
    connection.close()
    raise ServerUnavailable(server, reason) from error


def guard_query(execute, sql, params, many, context):
    """Execute wrapper of every connection: the request's deadline, and giving up on failure."""
    connection = context["connection"]
    state = current()
    server = replicas.server_for(connection.alias)
    alarm = None
    try:
        with armed(
            connection.connection,
            state.read_deadline,
            server=None if state.probing else server,
            probe=None if state.probing else replicas.sign_of_life(connection.alias),
        ) as alarm:
            result = execute(sql, params, many, context)
    except DatabaseError as error:
        give_up(connection, error, cut_off=alarm is not None and alarm.fired)
        raise
    answered(server)
    return result


def install_guard(sender, connection, **kwargs) -> None:
    """Give each new connection the guard (once)."""
    if connection.vendor == "postgresql" and guard_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(guard_query)


def connect_signals() -> None:
    """Called from ``CoreConfig.ready()``."""
    connection_created.connect(install_guard, dispatch_uid="core.db.failover.install_guard")
