"""Per-request routing state, kept in a contextvar (safe under threads and ASGI alike).

A request (or any other unit of work: a command, a thread) writes -> its later reads go to the
primary. A user who wrote is pinned to the primary for ``REPLICA_PIN_SECONDS`` across processes,
through the cache, so their next request reads their own writes even when the standby lags.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

PIN_KEY = "db-routing:pin:{user_id}"

logger = logging.getLogger(__name__)


@dataclass
class RoutingState:
    """What the router knows about the current unit of work."""

    wrote: bool = False
    user_id: int | None = None
    ml_mode: str | None = None  # None, "read" (ml_session()) or "write" (read_only=False)
    read_aliases: list[str] = field(default_factory=list)
    _pinned: bool | None = None

    def reads_primary(self) -> bool:
        """Read-your-writes: this unit of work, or this user recently, wrote."""
        if self.wrote:
            return True
        if self.user_id is None:
            return False
        if self._pinned is None:
            try:
                self._pinned = bool(cache.get(PIN_KEY.format(user_id=self.user_id)))
            except Exception:  # any cache backend's error: read from the primary to be safe
                logger.warning("routing cache unreadable; reading from the primary")
                self._pinned = True
        return self._pinned

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
def request_scope(*, user_id: int | None = None) -> Iterator[RoutingState]:
    """A fresh routing state for one request (or another unit of work)."""
    state = RoutingState(user_id=user_id)
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
        state._pinned = None
    if not also_read:
        return {}
    pin = PIN_KEY.format(user_id=user_id)
    try:
        found = cache.get_many([pin, *also_read])
    except Exception:  # any cache backend's error
        logger.warning("routing cache unreadable; reading from the primary")
        state._pinned = True
        return None
    if state._pinned is None:
        state._pinned = bool(found.get(pin))
    return found


def pin_user(user_id: int) -> None:
    """Send this user's reads to the primary for ``REPLICA_PIN_SECONDS``, in every process."""
    try:
        cache.set(PIN_KEY.format(user_id=user_id), 1, timeout=settings.REPLICA_PIN_SECONDS)
    except Exception:  # the write succeeded; a lost pin must not turn it into an error
        logger.warning("routing cache unwritable; user %s not pinned to the primary", user_id)


def reset() -> None:
    """Forget the state of the current context (a new unit of work starts)."""
    _state.set(None)
