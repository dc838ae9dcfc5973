"""Deadlines for reads on standbys: a read whose server stops answering is cut off.

``statement_timeout`` is enforced by the server, so it cannot end a read on a server that has
stopped (SIGSTOP, a hung host) or that PgBouncer is still trying to reach: the client waits on a
socket that never answers. Here a read is *armed* with a deadline; one watchdog thread per
process looks at the armed reads every few milliseconds.

A slow query and a dead server look the same from the waiting side, and only the dead server
should be given up on (a slow query would be as slow elsewhere). So a read that has not answered
halfway to its deadline makes the watchdog ask its server for a sign of life: any answer
from that server since the read began (another read's, or a ``SELECT 1`` on a fresh session,
asked in a thread of its own) means the server is alive, and the read is left to
``statement_timeout``. With no sign of life by the deadline, the watchdog shuts the read's
socket down, so the waiting driver call fails at once and the read can be re-run elsewhere.

Arming and disarming are two dictionary operations: nothing is paid when reads answer in time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.db.background import ProcessThread

TICK_SECONDS = 0.02


@dataclass
class Alarm:
    """One armed read: when it began and is due, and whether the watchdog cut it off."""

    started: float
    due: float
    fileno: int
    ask_at: float = 0.0
    server: str | None = None
    probe: Callable[[], None] | None = None
    fired: bool = False
    alive: bool = False


_armed: dict[int, Alarm] = {}
_answered: dict[str, float] = {}
_probing: set[str] = set()
_lock = threading.Lock()


def answered(server: str) -> None:
    """Note that ``server`` just answered a read (a sign of life for reads still waiting)."""
    _answered[server] = time.monotonic()


def _cut(alarm: Alarm) -> None:
    """Shut the socket down (on a duplicate descriptor: the owner still closes its own)."""
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
        alarm.alive = True
        return
    if now >= alarm.due:
        alarm.fired = True
        _cut(alarm)
    elif alarm.probe is not None and now >= alarm.ask_at and alarm.server not in _probing:
        _probing.add(alarm.server)
        threading.Thread(
            target=_ask, args=(alarm.server, alarm.probe), name="read-deadline-probe", daemon=True
        ).start()


def _watch() -> None:
    while True:
        time.sleep(TICK_SECONDS)
        if not _armed:
            continue
        now = time.monotonic()
        with _lock:
            # Under the lock: a disarmed read's descriptor may be closed and reused right after.
            for alarm in list(_armed.values()):
                if not (alarm.fired or alarm.alive):
                    _check(alarm, now)


def _forget_inherited() -> None:
    with _lock:
        _armed.clear()
        _probing.clear()


_watchdog = ProcessThread("read-deadline-watchdog", _watch, on_start=_forget_inherited)


@contextlib.contextmanager
def armed(
    fileno: int | None,
    seconds: float | None,
    *,
    server: str | None = None,
    probe: Callable[[], None] | None = None,
) -> Iterator[Alarm | None]:
    """Cut the socket ``fileno`` off if the block has not finished within ``seconds``, unless
    ``server`` shows a sign of life first (``probe()`` asks it; it raises when it gets no answer).

    Yields the alarm (``alarm.fired`` tells afterwards whether the deadline cut the read off),
    or None when there is no deadline or no socket.
    """
    if seconds is None or fileno is None or fileno < 0:
        yield None
        return
    _watchdog.ensure()
    key = threading.get_ident()
    now = time.monotonic()
    alarm = Alarm(
        started=now,
        due=now + seconds,
        fileno=fileno,
        ask_at=now + seconds / 2,
        server=server,
        probe=probe,
    )
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
