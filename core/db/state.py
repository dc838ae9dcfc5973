"""Per-request routing state, kept in a contextvar (safe under threads and ASGI alike).

Read-your-writes works by WAL position, as GitLab's database load balancer does. When a request
that wrote has been answered, the primary's WAL insert position is stored in the shared cache
for that user (``pin_user``). Each later request of the user reads it back (``identify``) and
reads only from a standby whose replay position has reached it, else from the primary. The pin
is right however far a standby lags, it holds across processes and instances (through the shared
cache), and it stops costing anything as soon as the standbys have caught up.

The cache's silence (no position for a user) is trusted only when the cache has held positions
for longer than a usable standby may lag (``db-routing:positions-since``: a restarted or emptied
Redis starts again) and this process has not seen it fail meanwhile; otherwise the user's reads
go to the primary for those few seconds. A position that could not be stored is stored on the
next successful use of the cache (``core.shared_cache``); until then other processes cannot know
of it (they may hold an older position of the user, or trust the silence of a cache that only
refuses writes), so the request that wrote waits for the standbys to replay it before it is
answered (``core.db.replicas.wait_until_replayed_everywhere``): a cache that fails slows writes, never makes a
user's next read stale.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from core import shared_cache

PIN_KEY = "db-routing:lsn:{user_id}"
SINCE_KEY = "db-routing:positions-since"
# A write whose WAL position could not be read: no standby qualifies until the pin expires.
PRIMARY_ONLY = 2**63 - 1

logger = logging.getLogger(__name__)


@dataclass
class RoutingState:
    """What the router knows about the current unit of work."""

    wrote: bool = False
    user_id: int | None = None
    ml_mode: str | None = None  # None, "read" (ml_session()) or "write" (read_only=False)
    # Deadline of each query (seconds), set for requests; None: no deadline.
    read_deadline: float | None = None
    # A probe's own queries: cut at the deadline without asking for a sign of life.
    probing: bool = False
    # A request that is going to write reads what it validates against from the primary.
    primary_reads: bool = False
    # Whether the request only reads, so that it can be re-run after a standby failed under it,
    # and how many times it was.
    retryable: bool = False
    attempts: int = 0
    # The API view of a request that only reads: a read it makes inside atomic() is reported.
    read_only_view: str | None = None
    read_aliases: list[str] = field(default_factory=list)
    # Where this request's pinned reads go while the primary does not answer (by ML or not).
    fallbacks: dict[bool, str] = field(default_factory=dict)
    _pin: int | None = None
    _pin_known: bool = False

    def pin(self) -> int | None:
        """The WAL position this user's reads must see (None: no recent write)."""
        if self.user_id is None:
            return None
        if not self._pin_known:
            self._pin, _ = _read_pin(self.user_id)
            self._pin_known = True
        return self._pin

    def note_read(self, alias: str) -> None:
        if alias not in self.read_aliases:
            self.read_aliases.append(alias)


_state: ContextVar[RoutingState | None] = ContextVar("db_routing_state", default=None)


def current() -> RoutingState:
    """The state of the current context, created on first use."""
    state = _state.get()
    if state is None:
        state = RoutingState()
        _state.set(state)
    return state


@contextlib.contextmanager
def request_scope(
    *, user_id: int | None = None, read_deadline: float | None = None
) -> Iterator[RoutingState]:
    """A fresh routing state for one request (or another unit of work)."""
    state = RoutingState(user_id=user_id, read_deadline=read_deadline)
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)


@contextlib.contextmanager
def probe_scope(seconds: float) -> Iterator[RoutingState]:
    """A unit of work that asks a server whether it answers: every query, the session's set-up
    included, is cut off after ``seconds``.
    """
    with request_scope(read_deadline=seconds) as state:
        state.probing = True
        yield state


def _read_pin(user_id: int, *also_read: str) -> tuple[int | None, dict | None]:
    """The user's position, read with ``also_read`` in one round trip (their values are returned;
    None when the cache could not be read, and the position is then ``PRIMARY_ONLY``).
    """
    key = PIN_KEY.format(user_id=user_id)
    try:
        found = cache.get_many([key, SINCE_KEY, *also_read])
    except Exception:  # any cache backend's error: only the primary is safe
        shared_cache.note_failure()
        logger.warning("routing cache unreadable; reading from the primary")
        return PRIMARY_ONLY, None
    shared_cache.settle()
    position = found.get(key)
    if isinstance(position, int):
        return position, found
    window = settings.REPLICA_MAX_LAG_SECONDS + 1
    since = found.get(SINCE_KEY)
    if not isinstance(since, float | int):
        # The cache holds no positions yet (new, restarted or emptied): from now on it does.
        with contextlib.suppress(Exception):
            cache.add(SINCE_KEY, time.time(), timeout=None)
        return PRIMARY_ONLY, found
    if time.time() - since < window or shared_cache.failed_within(window):
        return PRIMARY_ONLY, found
    return None, found


def identify(user_id: int, *, also_read: tuple[str, ...] = ()) -> dict | None:
    """Tell the router who is asking (called once authentication has found the user).

    With ``also_read``, the user's pin is read at once together with those keys of the shared
    cache (one round trip to Redis), and their values are returned; None when the cache could
    not be read (the user's reads then go to the primary, to be safe).
    """
    state = current()
    if state.user_id != user_id:
        state.user_id = user_id
        state._pin_known = False
    if not also_read:
        return {}
    position, found = _read_pin(user_id, *also_read)
    if not state._pin_known:
        state._pin, state._pin_known = position, True
    return found


def _store_pin(key: str, position: int) -> None:
    # Redis: atomically, and even while this process's breaker is open (another process may
    # read it); elsewhere a read and a write (one host: the race is a few microseconds wide).
    set_if_greater = getattr(cache, "set_if_greater", None)
    if set_if_greater is not None:
        set_if_greater(key, position, timeout=settings.REPLICA_PIN_SECONDS)
        return
    stored = cache.get(key)
    if not (isinstance(stored, int) and stored >= position):
        cache.set(key, position, timeout=settings.REPLICA_PIN_SECONDS)


def pin_user(user_id: int, position: int | None) -> bool:
    """Make this user's reads, in every process, wait for WAL ``position`` (None: unknown);
    whether the shared cache took it (if not, it is owed, and the caller makes sure otherwise).

    The stored position only moves forward: of two concurrent writes, the later one wins.
    """
    key = PIN_KEY.format(user_id=user_id)
    position = PRIMARY_ONLY if position is None else position
    try:
        _store_pin(key, position)
        return True
    except Exception:  # the write succeeded; a lost pin must not turn it into an error
        shared_cache.note_failure()
        logger.warning("routing cache unwritable; user %s's position owed", user_id)

        def store_later() -> None:
            _store_pin(key, position)
            # Others may have read this user's rows from a standby meanwhile: from now on,
            # silence is not trusted for a while anywhere.
            cache.set(SINCE_KEY, time.time(), timeout=None)

        shared_cache.owe(key, store_later)
        return False


def reset() -> None:
    """Forget the state of the current context (a new unit of work starts)."""
    _state.set(None)
