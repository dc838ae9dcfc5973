"""Ask each database server, directly, whether it answers: the primary, the standbys, their lag.

Probes run on the raw connection of the alias they check. Going through Django's cursor would
let the standby failover wrapper answer from the primary, and the health report would then
claim a dead standby is fine. Every probe runs in a short transaction with a local
``statement_timeout``, and connecting is bounded by ``connect_timeout`` (DATABASES OPTIONS),
so a probe of a dead or stuck server returns within a few seconds.

Nothing here reports an exception's message: psycopg's messages name hosts, socket paths and
users. Failures are summarised as "unreachable" or "query failed (<error class>)".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections

from core.db import replicas

logger = logging.getLogger(__name__)

PROBE_STATEMENT_TIMEOUT_MS = 3000
PRIMARY = "default"
UNREACHABLE = "unreachable"


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
            connection.ensure_connection()
            raw = connection.connection
            with raw.transaction(), raw.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {PROBE_STATEMENT_TIMEOUT_MS}")
                cursor.execute(sql, params)
                return cursor.fetchall()
        except (DatabaseError, psycopg.Error) as exc:
            logger.warning("health probe on %s failed: %s", alias, type(exc).__name__)
            raw = connection.connection
            if raw is not None and not raw.closed and not raw.broken:
                # The server answered with an error (a timeout...): reconnecting will not help.
                failure = f"query failed ({type(exc).__name__})"
                break
            failure = UNREACHABLE
            connection.close()
    raise ProbeFailed(alias, failure)


@dataclass(frozen=True)
class PrimaryStatus:
    """What the primary answered."""

    reachable: bool
    writable: bool
    failure: str | None = None

    @property
    def status(self) -> str:
        if not self.reachable:
            return "unreachable" if self.failure == UNREACHABLE else "failing"
        return "ok" if self.writable else "read_only"

    @property
    def problem(self) -> str | None:
        """A one-line summary when the primary cannot take writes."""
        if not self.reachable:
            return f"primary {self.failure}"
        if not self.writable:
            return "primary is read-only (in recovery)"
        return None

    def as_dict(self) -> dict:
        return {
            "alias": PRIMARY,
            "status": self.status,
            "reachable": self.reachable,
            "writable": self.writable,
        }


def primary_status() -> PrimaryStatus:
    """Ask the primary whether it is up and accepts writes (not a standby in recovery)."""
    try:
        rows = fetch(PRIMARY, "SELECT pg_is_in_recovery()")
    except ProbeFailed as failed:
        if failed.unreachable:
            replicas.mark_down(PRIMARY)
        return PrimaryStatus(reachable=False, writable=False, failure=failed.reason)
    return PrimaryStatus(reachable=True, writable=not rows[0][0])


@dataclass(frozen=True)
class StandbyStatus:
    """What one standby answered, and how far behind the primary it is."""

    alias: str
    server: str
    reachable: bool
    lag_seconds: float | None

    @property
    def lagging(self) -> bool:
        return self.lag_seconds is not None and self.lag_seconds > settings.REPLICA_MAX_LAG_SECONDS

    @property
    def status(self) -> str:
        if not self.reachable:
            return "unreachable"
        return "lagging" if self.lagging else "ok"

    @property
    def problem(self) -> str | None:
        """A one-line summary when reads cannot use this standby."""
        if not self.reachable:
            return f"{self.server} unreachable"
        if self.lagging:
            return (
                f"{self.server} lagging {self.lag_seconds:.1f}s "
                f"(max {settings.REPLICA_MAX_LAG_SECONDS:g}s)"
            )
        return None

    def as_dict(self) -> dict:
        return {
            "alias": self.alias,
            "status": self.status,
            "reachable": self.reachable,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
        }


def standby_status(alias: str, server: str | None = None) -> StandbyStatus:
    """Probe the standby ``server`` through ``alias`` (``ml`` reaches the first standby)."""
    server = server or alias
    try:
        fetch(alias, "SELECT 1")
    except ProbeFailed as failed:
        if failed.unreachable:
            # Tell the router too, so reads stop trying this standby for the retry window.
            replicas.mark_down(server)
        return StandbyStatus(alias=alias, server=server, reachable=False, lag_seconds=None)
    lag = replicas.lag_seconds(alias, server)
    return StandbyStatus(alias=alias, server=server, reachable=lag is not None, lag_seconds=lag)


def standby_statuses() -> list[StandbyStatus]:
    """Every configured standby, in ``REPLICA_ALIASES`` order."""
    return [standby_status(alias) for alias in settings.REPLICA_ALIASES]


def replica_section(standbys: list[StandbyStatus]) -> dict:
    """The ``replica`` part of a report: overall state, worst lag, and each standby."""
    if not standbys:
        status = "not_configured"
    elif all(standby.status == "ok" for standby in standbys):
        status = "ok"
    elif any(standby.status == "ok" for standby in standbys):
        status = "partial"
    elif any(standby.reachable for standby in standbys):
        status = "lagging"
    else:
        status = "unreachable"
    lags = [standby.lag_seconds for standby in standbys if standby.lag_seconds is not None]
    return {
        "status": status,
        "reachable": any(standby.reachable for standby in standbys),
        "lag_seconds": round(max(lags), 3) if lags else None,
        "max_lag_seconds": settings.REPLICA_MAX_LAG_SECONDS,
        "standbys": [standby.as_dict() for standby in standbys],
    }
