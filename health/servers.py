"""Ask each database server, directly, whether it answers: the primary, the standbys, their lag.

Probes are time-bounded reads on each alias's own connection (``core.db.probe``); a server
that the router already knows to be down is reported as such without another probe (the
router's prober is trying it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from core.db import replicas
from core.db.probe import PRIMARY, UNREACHABLE, ProbeFailed, fetch

__all__ = ["PRIMARY", "UNREACHABLE", "ProbeFailed", "fetch"]


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
    # Why the router stopped using it, when it did (a read deadline, replay blocking reads...).
    down_because: str | None = None
    streaming: bool | None = None

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
            if self.down_because and self.down_because != UNREACHABLE:
                return f"{self.server} unreachable ({self.down_because})"
            return f"{self.server} unreachable"
        if self.lagging:
            return (
                f"{self.server} lagging {self.lag_seconds:.1f}s "
                f"(max {settings.REPLICA_MAX_LAG_SECONDS:g}s)"
            )
        if self.streaming is False:
            return f"{self.server} not streaming from the primary (it has replayed all it received)"
        return None

    def as_dict(self) -> dict:
        return {
            "alias": self.alias,
            "status": self.status,
            "reachable": self.reachable,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "streaming": self.streaming,
        }


def standby_status(alias: str, server: str | None = None) -> StandbyStatus:
    """Probe the standby ``server`` through ``alias`` (an API or an ML alias of it)."""
    server = server or alias
    known = replicas.health(server)
    if known.down:
        return StandbyStatus(alias, server, False, None, down_because=known.last_error)
    try:
        fetch(alias, "SELECT 1")
    except ProbeFailed as failed:
        if failed.unreachable:
            # Tell the router too, so reads stop trying this standby until it answers again.
            replicas.mark_down(server)
        return StandbyStatus(alias=alias, server=server, reachable=False, lag_seconds=None)
    lag = replicas.lag_seconds(alias, server)
    if lag is None:
        return StandbyStatus(alias=alias, server=server, reachable=False, lag_seconds=None)
    entry = replicas.health(server)
    if entry.streaming is False and entry.caught_up:
        # Cut off from its primary (down, say) with nothing received left to replay: not behind
        # anything it could have; the age of its last commit is not a lag.
        return StandbyStatus(alias, server, True, 0.0, streaming=False)
    return StandbyStatus(alias, server, True, lag, streaming=entry.streaming)


def standby_statuses() -> list[StandbyStatus]:
    """Every configured standby, in configuration order."""
    return [
        standby_status(standby.read_alias or standby.ml_alias, standby.name)
        for standby in settings.DATABASE_STANDBYS
    ]


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
