"""Which standbys may serve reads right now: connection health, lag, retry windows.

The state is per process. A standby that fails to connect (or dies under a query) is marked
down for ``REPLICA_RETRY_SECONDS``; one whose replay lag exceeds ``REPLICA_MAX_LAG_SECONDS``
is skipped until it catches up. Lag is measured at most once a second per standby.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections

LAG_CHECK_INTERVAL = 1.0

# Caught up (everything received is replayed) and still streaming: no lag. Otherwise the lag
# is the age of the last replayed commit: a standby that silently stopped streaming ages too.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
         AND EXISTS (
             SELECT 1 FROM pg_stat_wal_receiver WHERE coalesce(status, 'streaming') = 'streaming'
         ) THEN 0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
END::float8
"""


@dataclass
class ReplicaHealth:
    """What this process last learnt about one standby."""

    down_until: float = 0.0
    lag_seconds: float | None = None
    lag_checked_at: float = float("-inf")
    last_error: str | None = None


_health: dict[str, ReplicaHealth] = {}
_lock = threading.Lock()
_round_robin = itertools.count()


def health(server: str) -> ReplicaHealth:
    entry = _health.get(server)
    if entry is None:
        with _lock:
            entry = _health.setdefault(server, ReplicaHealth())
    return entry


def ml_server() -> str | None:
    """The standby behind the ``ml`` alias (the first one), or None when ``ml`` is the primary."""
    return settings.REPLICA_ALIASES[0] if settings.REPLICA_ALIASES else None


def mark_down(server: str, error: str = "unreachable") -> None:
    entry = health(server)
    entry.down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    entry.last_error = error
    entry.lag_seconds = None
    entry.lag_checked_at = float("-inf")


def is_down(server: str) -> bool:
    return time.monotonic() < health(server).down_until


def connects(alias: str, server: str) -> bool:
    """Open (or health-check) ``alias``; on failure mark ``server`` down."""
    connection = connections[alias]
    try:
        if connection.errors_occurred and not connection.in_atomic_block:
            # A query failed on this connection: find out whether the server is still there.
            if connection.connection is not None and connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()
        connection.close_if_health_check_failed()
        raw = connection.connection
        if raw is not None and (raw.closed or raw.broken) and not connection.in_atomic_block:
            # The driver already knows the session is gone (a shutting-down server's farewell
            # can arrive with the answer to the health check): a cursor on it would fail.
            connection.close()
        connection.ensure_connection()
    except DatabaseError:
        mark_down(server)
        connection.close()
        return False
    return True


def lag_seconds(alias: str, server: str, *, max_age: float = LAG_CHECK_INTERVAL) -> float | None:
    """Replay lag of ``server`` in seconds, measured through ``alias``; None when unreachable."""
    entry = health(server)
    now = time.monotonic()
    if now - entry.lag_checked_at < max_age:
        return entry.lag_seconds
    for attempt in range(2):
        if not connects(alias, server):
            return None
        try:
            # The raw connection: a failure here must mark the standby down, not fail over.
            with connections[alias].connection.cursor() as cursor:
                cursor.execute(LAG_SQL)
                entry.lag_seconds = float(cursor.fetchone()[0])
            break
        except psycopg.Error:
            # A connection opened before the standby restarted fails once: reconnect and retry.
            connections[alias].close()
            if attempt:
                mark_down(server)
                return None
    entry.lag_checked_at = now
    return entry.lag_seconds


def is_usable(alias: str, server: str, *, max_lag: float | None = None) -> bool:
    """True when ``alias`` (a connection to ``server``) can serve a read now."""
    if is_down(server):
        return False
    lag = lag_seconds(alias, server)
    limit = settings.REPLICA_MAX_LAG_SECONDS if max_lag is None else max_lag
    if lag is None or lag > limit:
        return False
    # Checked last: the lag query may have been the read that found the session closed (a
    # shutting-down server's farewell arrives with the result), and nothing reads after this.
    return connects(alias, server)


def choose_replica(*, max_lag: float | None = None) -> str | None:
    """A usable standby alias, round-robin across several; None when none is usable.

    ``max_lag`` overrides ``REPLICA_MAX_LAG_SECONDS`` (``inf``: any reachable standby).
    """
    aliases = settings.REPLICA_ALIASES
    if not aliases:
        return None
    start = next(_round_robin)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if is_usable(alias, alias, max_lag=max_lag):
            return alias
    return None


def primary_reachable() -> bool:
    """False while the primary is known to be down (it is retried after the retry window)."""
    return not is_down("default") and connects("default", "default")


def reset() -> None:
    """Forget everything learnt (tests, and after an operator restarts a standby)."""
    with _lock:
        _health.clear()
