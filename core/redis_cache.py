"""The shared cache on Redis: short socket timeouts, no retries, and a breaker.

Every request reads the shared cache (its user's read-your-writes position, the token epoch,
rate-limit counters), and every reader has a safe fallback when the cache fails: reads go to
the primary, tokens are looked up again, requests are served uncounted. What a failing cache
must never do is make requests wait. A Redis that is down refuses at once; a frozen one (a
stopped process, a lost host) would cost every cache call its socket timeout. So calls give up
after ``socket_timeout`` (``CACHE_SOCKET_TIMEOUT``), and after a failure the cache answers
"unavailable" at once for ``CACHE_RETRY_SECONDS``, then tries again: one call per process and
period pays the timeout, never every request.
"""

from __future__ import annotations

import functools
import threading
import time

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)
GUARDED = (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many",
    "delete_many", "clear",
)  # fmt: skip


class CacheUnavailable(RedisConnectionError):
    """The cache failed a moment ago: not asked again until its retry time."""


_open_until: dict[tuple, float] = {}
_lock = threading.Lock()


def _guarded(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        key = self.breaker_key
        if _open_until.get(key, 0.0) > time.monotonic():
            raise CacheUnavailable("the shared cache failed moments ago")
        try:
            return method(self, *args, **kwargs)
        except FAILURES:
            with _lock:
                _open_until[key] = time.monotonic() + settings.CACHE_RETRY_SECONDS
            raise

    return call


class SharedRedisCache(RedisCache):
    """Django's Redis cache with short timeouts, no retries and a breaker (see the module)."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_timeout", settings.CACHE_SOCKET_TIMEOUT)
        options.setdefault("socket_connect_timeout", settings.CACHE_SOCKET_TIMEOUT)
        super().__init__(server, {**params, "OPTIONS": options})
        self.breaker_key = (server,) if isinstance(server, str) else tuple(server)

    def available(self) -> bool:
        """False while the breaker is open (the cache failed moments ago)."""
        return _open_until.get(self.breaker_key, 0.0) <= time.monotonic()


for _name in GUARDED:
    setattr(SharedRedisCache, _name, _guarded(getattr(RedisCache, _name)))


def reset() -> None:
    """Close every breaker (tests)."""
    with _lock:
        _open_until.clear()
