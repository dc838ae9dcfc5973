"""Per-request routing state, kept in a contextvar (safe under threads and ASGI alike).

Read-your-writes works by WAL position, as GitLab's database load balancer does. When a request
that wrote has been answered, the primary's WAL insert position is stored in the shared cache
for that user (``pin_user``). Each later request of the user reads it back (``identify``) and
reads only from a standby whose replay position has reached it, else from the primary. The pin
is right however far a standby lags, it holds across processes and instances (through the shared
cache), and it stops costing anything as soon as the standbys have caught up.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

PIN_KEY = "db-routing:lsn:{user_id}"
# A write whose WAL position could not be read: no standby qualifies until the pin expires.
PRIMARY_ONLY = 2**63 - 1

logger = logging.getLogger(__name__)


@dataclass
class RoutingState:
    """What the router knows about the current unit of work."""

    wrote: bool = False
    user_id: int | None = None
    ml_mode: str | None = None  # None, "read" (ml_session()) or "write" (read_only=False)
    # Deadline of each read on a standby (seconds), set for requests; None: no deadline.
    read_deadline: float | None = None
    # A request that is going to write reads what it validates against from the primary.
    primary_reads: bool = False
    # Whether the request only reads, so that it can be re-run after a standby failed under it,
    # and how many times it was.
    retryable: bool = False
    attempts: int = 0
    read_aliases: list[str] = field(default_factory=list)
    _pin: int | None = None
    _pin_known: bool = False

    def pin(self) -> int | None:
        """The WAL position this user's reads must see (None: no recent write)."""
        if self.user_id is None:
            return None
        if not self._pin_known:
            try:
                self._set_pin(cache.get(PIN_KEY.format(user_id=self.user_id)))
            except Exception:  # any cache backend's error: only the primary is safe
                logger.warning("routing cache unreadable; reading from the primary")
                self._set_pin(PRIMARY_ONLY)
        return self._pin

    def _set_pin(self, value: object) -> None:
        self._pin = int(value) if isinstance(value, int) else None
        self._pin_known = True

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
    pin = PIN_KEY.format(user_id=user_id)
    try:
        found = cache.get_many([pin, *also_read])
    except Exception:  # any cache backend's error
        logger.warning("routing cache unreadable; reading from the primary")
        state._set_pin(PRIMARY_ONLY)
        return None
    if not state._pin_known:
        state._set_pin(found.get(pin))
    return found


def pin_user(user_id: int, position: int | None) -> None:
    """Make this user's reads, in every process, wait for WAL ``position`` (None: unknown).

    The stored position only moves forward: of two concurrent writes, the later one wins.
    """
    key = PIN_KEY.format(user_id=user_id)
    position = PRIMARY_ONLY if position is None else position
    try:
        # Worth a socket timeout even while the cache seemed down: another process may read it.
        get = getattr(cache, "get_even_if_failing", cache.get)
        stored = get(key)
        if isinstance(stored, int) and stored >= position:
            return
        cache.set(key, position, timeout=settings.REPLICA_PIN_SECONDS)
    except Exception:  # the write succeeded; a lost pin must not turn it into an error
        logger.warning("routing cache unwritable; user %s not pinned", user_id)


def reset() -> None:
    """Forget the state of the current context (a new unit of work starts)."""
    _state.set(None)
