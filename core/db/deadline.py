"""Deadlines for queries: a query whose server stops answering is cut off.

``statement_timeout`` is enforced by the server, so it cannot end a query on a server that has
stopped (SIGSTOP, a hung host) or that PgBouncer is still trying to reach: the client waits on a
socket that never answers. Here a query is *armed* with a deadline; one watchdog thread per
process looks at the armed queries every few milliseconds.

A slow query and a dead server look the same from the waiting side, and only the dead server
should be given up on (a slow query would be as slow elsewhere). So a query that has not answered
halfway to its deadline makes the watchdog ask its server for a sign of life: any answer from
that server since the window began (another query's, or a ``SELECT 1`` on a fresh session, asked
in a thread of its own). A sign of life opens a new window of the same length, so a long query on
a live server is left to ``statement_timeout`` and a server that stops answering midway through
it is still noticed. With no sign of life by the deadline, the watchdog shuts the query's socket
down, so the waiting driver call fails at once and the query can be re-run elsewhere. (No cancel
request is sent: libpq's blocking one would hold up the whole process on a frozen server. A
server that was only slow finishes the query and finds its client gone.)

Arming and disarming are two dictionary operations: nothing is paid when queries answer in time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from core.db.background import ProcessThread

TICK_SECONDS = 0.02


@dataclass
class Alarm:
    """One armed query: its window, and whether the watchdog cut it off."""

    raw: psycopg.Connection
    fileno: int
    seconds: float
    started: float
    server: str | None = None
    probe: Callable[[], None] | None = None
    fired: bool = False

    @property
    def due(self) -> float:
        return self.started + self.seconds

    @property
    def ask_at(self) -> float:
        return self.started + self.seconds / 2


_armed: dict[int, Alarm] = {}
_answered: dict[str, float] = {}
_probing: set[str] = set()
_lock = threading.Lock()


def answered(server: str) -> None:
    """Note that ``server`` just answered a query (a sign of life for queries still waiting)."""
    _answered[server] = time.monotonic()


def _still_its_socket(alarm: Alarm) -> bool:
    """Whether the descriptor is still the connection's (libpq closes it on a lost connection,
    and the number may already belong to another socket).
    """
    try:
        return alarm.raw.pgconn.socket == alarm.fileno
    except psycopg.Error:
        return False


def _cut(alarm: Alarm) -> None:
    """Shut the socket down (on a duplicate descriptor: the owner still closes its own)."""
    if not _still_its_socket(alarm):
        return
    try:
        duplicate = socket.socket(fileno=os.dup(alarm.fileno))
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


def _ask(server: str, probe: Callable[[], None]) -> None:
    try:
        probe()
    except Exception:  # no sign of life: the deadline decides
        pass
    else:
        answered(server)
    finally:
        _probing.discard(server)


def _check(alarm: Alarm, now: float) -> None:
    if alarm.server is not None and _answered.get(alarm.server, float("-inf")) > alarm.started:
        alarm.started = now  # alive: a new window
        return
    if now >= alarm.due:
        alarm.fired = True
        _cut(alarm)
    elif alarm.probe is not None and now >= alarm.ask_at and alarm.server not in _probing:
        _probing.add(alarm.server)
        threading.Thread(
            target=_ask, args=(alarm.server, alarm.probe), name="query-deadline-probe", daemon=True
        ).start()


def _watch() -> None:
    while True:
        time.sleep(TICK_SECONDS)
        if not _armed:
            continue
        now = time.monotonic()
        with _lock:
            # Under the lock: a disarmed query's descriptor may be closed and reused right after.
            for alarm in list(_armed.values()):
                if not alarm.fired:
                    _check(alarm, now)


def _forget_inherited() -> None:
    """In a forked child: the parent's alarms, probes and lock are not this process's."""
    global _lock
    _lock = threading.Lock()
    _armed.clear()
    _probing.clear()
    _answered.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def reset() -> None:
    """Forget signs of life (tests: a late probe of one test must not speak for the next)."""
    _answered.clear()


_watchdog = ProcessThread("query-deadline-watchdog", _watch)


def _fileno(raw: psycopg.Connection | None) -> int | None:
    if raw is None:
        return None
    try:
        return raw.pgconn.socket
    except psycopg.Error:  # the connection is already lost: the query fails on its own
        return None


@contextlib.contextmanager
def armed(
    raw: psycopg.Connection | None,
    seconds: float | None,
    *,
    server: str | None = None,
    probe: Callable[[], None] | None = None,
) -> Iterator[Alarm | None]:
    """Cut the connection ``raw`` off if the block has not finished within ``seconds``, unless
    ``server`` shows a sign of life first (``probe()`` asks it; it raises when it gets no answer).

    Yields the alarm (``alarm.fired`` tells afterwards whether the deadline cut the query off),
    or None when there is no deadline or no connection.
    """
    fileno = _fileno(raw) if seconds is not None else None
    if fileno is None or fileno < 0:
        yield None
        return
    _watchdog.ensure()
    key = threading.get_ident()
    alarm = Alarm(raw, fileno, seconds, time.monotonic(), server=server, probe=probe)
    with _lock:
        previous = _armed.get(key)
        _armed[key] = alarm
    try:
        yield alarm
    finally:
        with _lock:
            if previous is None:
                _armed.pop(key, None)
            else:
                _armed[key] = previous
