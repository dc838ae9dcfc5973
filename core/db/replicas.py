"""Which servers may serve reads right now: reachability, replay lag, replay position.

The state is per process and per server (a standby, or the primary ``default``):

- A server that fails (it does not connect, a read on it breaks or passes its deadline, replay
  cancels or blocks a read) is *marked down*. Requests never try a server that is down: a
  prober thread tries it again every ``REPLICA_RETRY_SECONDS`` and lets it back once it
  answers (and, after a replay conflict, once replay has moved on). A server that stops
  answering therefore costs one request one read deadline, once.
- A standby whose replay lag exceeds ``REPLICA_MAX_LAG_SECONDS`` is skipped until it catches up.
  Lag is measured at most once a second per standby, in the request that needs it.
- The replay position of each standby is remembered (it only moves forward), so a user pinned
  to a WAL position (read-your-writes) costs a query only while no standby is known to have
  reached it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections

from core import metrics
from core.db import deadline
from core.db.background import ProcessThread
from core.db.config import PRIMARY, Standby
from core.db.state import probe_scope

LAG_CHECK_INTERVAL = 1.0
# A standby found behind a pin is asked again no sooner than this (per process).
REPLAY_RECHECK_SECONDS = 0.005
# A user's read waits this long for a standby to replay their write before going to the primary:
# streaming replay is usually a few milliseconds behind a commit under load, and a standby read
# is what spares the primary.
REPLAY_WAIT_SECONDS = 0.01
PROBE_TICK_SECONDS = 0.25
# A sign-of-life probe that got no answer in this long is abandoned (the read's deadline has
# long decided by then).
PROBE_GIVE_UP_SECONDS = 5.0
STUCK_UNKNOWN = -1
# While the primary is believed down, a read that only it can serve asks it again at most this
# often (per process); the prober lets it back within REPLICA_RETRY_SECONDS anyway.
PRIMARY_ASK_SECONDS = 0.5

# Caught up (everything received is replayed) and still streaming: no lag. Otherwise the lag
# is the age of the last replayed commit: a standby that silently stopped streaming ages too,
# and one that has replayed no commit since it started has an unknown (infinite) lag.
# A WAL receiver that streams. A role without pg_read_all_stats sees the receiver's row with its
# columns null: the row alone then says it runs (without a receiver there is no row at all).
RECEIVER_STREAMING = (
    "EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE coalesce(status, 'streaming') = 'streaming')"
)
STATUS_SQL = f"""
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
         AND {RECEIVER_STREAMING} THEN 0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 'Infinity')
END::float8,
    (coalesce(pg_last_wal_replay_lsn(), '0/0') - '0/0'::pg_lsn)::int8,
    (coalesce(pg_last_wal_receive_lsn(), '0/0') - '0/0'::pg_lsn)::int8,
    NOT pg_is_in_recovery() OR {RECEIVER_STREAMING}
"""

logger = logging.getLogger(__name__)


@dataclass
class ServerHealth:
    """What this process last learnt about one server."""

    down: bool = False
    # Counts mark-downs: a probe that began before the latest one cannot undo it.
    generation: int = 0
    retry_at: float = 0.0
    last_error: str | None = None
    # Marked down because replay cancelled or blocked a read: let back once replay moved on.
    stuck_at_lsn: int | None = None
    lag_seconds: float | None = None
    lag_checked_at: float = float("-inf")
    replay_lsn: int = 0
    replay_checked_at: float = float("-inf")
    # Whether it streams from its primary, and has replayed everything it received (the truth
    # health tells while the primary is down: such a standby is not behind, it is cut off).
    streaming: bool | None = None
    caught_up: bool | None = None
    primary_asked_at: float = float("-inf")


_health: dict[str, ServerHealth] = {}
_lock = threading.Lock()
_round_robin = itertools.count()


def health(server: str) -> ServerHealth:
    entry = _health.get(server)
    if entry is None:
        with _lock:
            entry = _health.setdefault(server, ServerHealth())
    return entry


def standbys() -> tuple[Standby, ...]:
    return settings.DATABASE_STANDBYS


def server_of(alias: str) -> str | None:
    """The standby that ``alias`` reaches (None for the primary's aliases)."""
    for standby in standbys():
        if alias in (standby.read_alias, standby.ml_alias):
            return standby.name
    return None


def server_for(alias: str) -> str:
    """The server ``alias`` reaches: a standby's name, or ``default`` for the primary."""
    return server_of(alias) or PRIMARY


def _status_alias(server: str) -> str:
    """An alias that reaches ``server``, to ask it how it is."""
    if server == PRIMARY:
        return PRIMARY
    for standby in standbys():
        if standby.name == server:
            return standby.probe_alias
    raise KeyError(server)


def sign_of_life(alias: str) -> Callable[[], None]:
    """A probe for the read deadline: ``SELECT 1`` on a fresh session of ``alias``'s server (in
    the calling thread's own connection), raising when it gets no answer.
    """
    probe = _probes.get(alias)
    if probe is None:
        probe = _probes.setdefault(alias, functools.partial(_select_one, alias))
    return probe


def _select_one(alias: str, seconds: float = PROBE_GIVE_UP_SECONDS) -> None:
    """``SELECT 1`` on a fresh session of ``alias`` in this thread, cut off after ``seconds``
    (connecting included: PgBouncer answers the log-in itself, then waits for the server).
    """
    connection = connections[alias]
    with probe_scope(seconds):
        try:
            connection.close()
            connection.ensure_connection()
            raw = connection.connection
            with deadline.armed(raw, seconds), raw.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()


_probes: dict[str, Callable[[], None]] = {}


# ---- down and up ------------------------------------------------------------------------


def mark_down(server: str, error: str = "unreachable", *, replay_conflict: bool = False) -> None:
    """Stop sending reads to ``server``; the prober lets it back once it answers again."""
    entry = health(server)
    with _lock:
        if not entry.down:
            logger.warning("%s marked down: %s", server, error)
            metrics.count(metrics.FAILOVERS, server)
        entry.generation += 1
        entry.retry_at = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        entry.last_error = error
        # After a replay conflict, the prober's first look sets where replay stands.
        entry.stuck_at_lsn = STUCK_UNKNOWN if replay_conflict else None
        entry.lag_seconds = None
        entry.lag_checked_at = float("-inf")
        # A restarted standby may serve reads from before the position it reported.
        entry.replay_lsn = 0
        entry.replay_checked_at = float("-inf")
        entry.down = True
    _prober.ensure()


def _mark_up(server: str, *, generation: int | None = None) -> bool:
    """Let ``server`` back, unless it was marked down again since ``generation``."""
    entry = health(server)
    with _lock:
        if generation is not None and entry.generation != generation:
            return False
        if entry.down:
            logger.warning("%s answers again", server)
        entry.down = False
        entry.last_error = None
        entry.stuck_at_lsn = None
    return True


def is_down(server: str) -> bool:
    return health(server).down


# ---- asking a server ---------------------------------------------------------------------


def _observe(alias: str, server: str) -> bool:
    """Ask ``server`` (through ``alias``) for its lag and replay position; False on failure."""
    entry = health(server)
    connection = connections[alias]
    for attempt in range(2):
        if not connects(alias, server):
            return False
        raw = connection.connection
        alarm = None
        try:
            # The raw connection: a failure here marks the standby down, nothing else.
            with (
                deadline.armed(
                    raw,
                    settings.REPLICA_READ_TIMEOUT,
                    server=server,
                    probe=sign_of_life(alias),
                ) as alarm,
                raw.cursor() as cursor,
            ):
                cursor.execute(STATUS_SQL)
                lag, replay, received, streaming = cursor.fetchone()
            deadline.answered(server)
        except psycopg.Error:
            connection.close()
            cut_off = alarm is not None and alarm.fired
            if cut_off or attempt:
                mark_down(server, "no answer within the read deadline" if cut_off else "failing")
                return False
            # A connection opened before the standby restarted fails once: reconnect, retry.
            continue
        now = time.monotonic()
        entry.lag_seconds = float(lag)
        entry.lag_checked_at = now
        entry.replay_lsn = max(entry.replay_lsn, int(replay))
        entry.replay_checked_at = now
        entry.streaming = bool(streaming)
        entry.caught_up = int(replay) >= int(received)
        return True
    return False


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
    if time.monotonic() - entry.lag_checked_at < max_age:
        return entry.lag_seconds
    if not _observe(alias, server):
        return None
    return entry.lag_seconds


def has_replayed(alias: str, server: str, position: int) -> bool:
    """Whether ``server`` has replayed WAL up to ``position`` (asked only when not yet known)."""
    entry = health(server)
    if entry.replay_lsn >= position:
        return True
    if time.monotonic() - entry.replay_checked_at < REPLAY_RECHECK_SECONDS:
        return False
    return _observe(alias, server) and entry.replay_lsn >= position


def is_usable(
    alias: str, server: str, *, max_lag: float | None = None, position: int | None = None
) -> bool:
    """True when ``alias`` (a connection to ``server``) can serve a read now.

    ``position``: the read must see WAL up to there (read-your-writes).
    """
    if is_down(server):
        return False
    lag = lag_seconds(alias, server)
    limit = settings.REPLICA_MAX_LAG_SECONDS if max_lag is None else max_lag
    if lag is None or lag > limit:
        return False
    if position is not None and not has_replayed(alias, server, position):
        return False
    # Checked last: the lag query may have been the read that found the session closed (a
    # shutting-down server's farewell arrives with the result), and nothing reads after this.
    return connects(alias, server)


def _choose(
    candidates: list[tuple[str, str]], *, max_lag: float | None, position: int | None
) -> str | None:
    if not candidates:
        return None
    start = next(_round_robin)
    for offset in range(len(candidates)):
        alias, server = candidates[(start + offset) % len(candidates)]
        if is_usable(alias, server, max_lag=max_lag, position=position):
            return alias
    return None


def choose_replica(*, max_lag: float | None = None, position: int | None = None) -> str | None:
    """A usable standby alias for API reads, round-robin; None when none is usable.

    ``max_lag`` overrides ``REPLICA_MAX_LAG_SECONDS`` (``inf``: any reachable standby).
    """
    candidates = [(s.read_alias, s.name) for s in standbys() if s.read_alias is not None]
    return _choose(candidates, max_lag=max_lag, position=position)


def choose_ml(*, max_lag: float | None = None, position: int | None = None) -> str | None:
    """A usable ML alias: the dedicated ML standby first, then any standby, round-robin."""
    dedicated = [(s.ml_alias, s.name) for s in standbys() if s.read_alias is None]
    shared = [(s.ml_alias, s.name) for s in standbys() if s.read_alias is not None]
    return _choose(dedicated, max_lag=max_lag, position=position) or _choose(
        shared, max_lag=max_lag, position=position
    )


def wait_for_replay(
    position: int, *, ml: bool, seconds: float, max_lag: float | None = None
) -> str | None:
    """A reachable standby alias (ML or API) that has replayed ``position``, asking the standbys
    again for up to ``seconds``; None if none gets there. ``max_lag`` as for ``is_usable``.
    """
    limit = settings.REPLICA_MAX_LAG_SECONDS if max_lag is None else max_lag
    give_up_at = time.monotonic() + seconds
    interval = REPLAY_RECHECK_SECONDS
    while True:
        candidates = [
            (s.ml_alias if ml else s.read_alias, s.name)
            for s in standbys()
            if (ml or s.read_alias is not None) and not is_down(s.name)
        ]
        for alias, server in candidates:
            entry = health(server)
            if entry.replay_lsn < position and (
                time.monotonic() - entry.replay_checked_at < REPLAY_RECHECK_SECONDS
                or not _observe(alias, server)
            ):
                continue
            lag = entry.lag_seconds
            if entry.replay_lsn >= position and lag is not None and lag <= limit:
                return alias
        if not candidates or time.monotonic() >= give_up_at:
            return None
        time.sleep(interval)


def primary_reachable() -> bool:
    """False while the primary is known to be down (the prober tries it again)."""
    return not is_down(PRIMARY) and connects(PRIMARY, PRIMARY)


def primary_answers() -> bool:
    """Whether the primary answers now, even while this process believes it is down.

    For a read that nothing else may serve (its user's write is on no standby yet): right after
    the primary comes back, this process may not have noticed. Behind a pooler a connection
    proves nothing, so the primary is asked (within the read deadline).
    """
    if primary_reachable():
        return True
    entry = health(PRIMARY)
    if time.monotonic() - entry.primary_asked_at < PRIMARY_ASK_SECONDS:
        return False
    entry.primary_asked_at = time.monotonic()
    generation = entry.generation
    try:
        _select_one(PRIMARY, seconds=settings.REPLICA_READ_TIMEOUT)
    except (DatabaseError, psycopg.Error):
        return False
    return _mark_up(PRIMARY, generation=generation)


# ---- the prober --------------------------------------------------------------------------


def _probe(server: str) -> None:
    """Ask a server that is down whether it answers again (in the prober thread)."""
    entry = health(server)
    generation = entry.generation
    connection = connections[_status_alias(server)]
    seconds = settings.REPLICA_READ_TIMEOUT
    try:
        with probe_scope(seconds):  # connecting included: PgBouncer may wait for the server
            connection.ensure_connection()
            raw = connection.connection
            with deadline.armed(raw, seconds), raw.cursor() as cursor:
                cursor.execute(STATUS_SQL)
                lag, replay, received, streaming = cursor.fetchone()
    except (DatabaseError, psycopg.Error):
        entry.retry_at = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        return
    finally:
        connection.close()
    replay, received = int(replay), int(received)
    if entry.stuck_at_lsn == STUCK_UNKNOWN and replay < received:
        entry.stuck_at_lsn = replay
    if entry.stuck_at_lsn is not None and replay <= entry.stuck_at_lsn and replay < received:
        # Replay has not moved since it cancelled or blocked a read: still stuck.
        entry.retry_at = time.monotonic() + settings.REPLICA_RETRY_SECONDS
        return
    if _mark_up(server, generation=generation):
        entry.replay_lsn = replay
        entry.replay_checked_at = time.monotonic()
        entry.lag_seconds = float(lag)
        entry.lag_checked_at = time.monotonic()
        entry.streaming = bool(streaming)
        entry.caught_up = replay >= received


def _probe_loop() -> None:
    while True:
        time.sleep(PROBE_TICK_SECONDS)
        now = time.monotonic()
        for server, entry in list(_health.items()):
            if entry.down and entry.retry_at <= now:
                try:
                    _probe(server)
                except Exception as error:  # the prober must outlive anything one probe does
                    # The class only: a driver's message names hosts and users.
                    logger.warning("probing %s failed: %s", server, type(error).__name__)
                    entry.retry_at = time.monotonic() + settings.REPLICA_RETRY_SECONDS


_prober = ProcessThread("server-prober", _probe_loop)


def reset() -> None:
    """Forget everything learnt (tests, and after an operator restarts a standby)."""
    with _lock:
        _health.clear()


def _forget_inherited() -> None:
    """In a forked child: what the parent learnt is not this process's, nor is its lock."""
    global _lock
    _lock = threading.Lock()
    _health.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def wait_until_replayed_everywhere(position: int) -> None:
    """Wait until every standby a read could use has replayed WAL ``position``: one that lags
    more than ``REPLICA_MAX_LAG_SECONDS`` serves no read, so that long is the most it takes."""
    deadline = time.monotonic() + settings.REPLICA_MAX_LAG_SECONDS
    waiting = {(s.ml_alias, s.name) for s in standbys()}
    waiting |= {(s.read_alias, s.name) for s in standbys() if s.read_alias is not None}
    while waiting and time.monotonic() < deadline:
        waiting = {
            (alias, server)
            for alias, server in waiting
            if not is_down(server) and not has_replayed(alias, server, position)
        }
        if waiting:
            time.sleep(REPLAY_RECHECK_SECONDS)
    if waiting:
        logger.warning("standbys still behind a write after %ss", settings.REPLICA_MAX_LAG_SECONDS)


def primary_wal_position() -> int | None:
    """The primary's WAL insert position now (past every commit so far); None if unreadable."""
    if is_down(PRIMARY):
        return None
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8")
            return int(cursor.fetchone()[0])
    except DatabaseError:
        logger.warning("the primary's WAL position is unreadable after a write")
        return None
