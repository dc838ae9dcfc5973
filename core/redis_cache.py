"""The shared cache on Redis: short socket timeouts, no retries, and a breaker.

Every request reads the shared cache (its user's read-your-writes position, the token epoch,
rate-limit counters), and every reader has a safe fallback when the cache fails: reads go to
the primary, tokens are looked up again, requests are served uncounted. What a failing cache
must never do is make requests wait. A Redis that is down refuses at once; a frozen one (a
stopped process, a lost host) would cost every cache call its socket timeout. So calls give up
after ``socket_timeout`` (``CACHE_SOCKET_TIMEOUT``), and after a failure the cache answers
"unavailable" at once for ``CACHE_RETRY_SECONDS``, then tries again: one call per process and
period pays the timeout, never every request. Each request's failed calls (how many, how long
they waited) are in its request-log line (``request_waits``).
"""

from __future__ import annotations

import contextvars
import functools
import threading
import time

import redis
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


# When each cache last failed (monotonic seconds), while its breaker is open.
_failed_at: dict[tuple, float] = {}
_lock = threading.Lock()
# A call that may skip the breaker does so only once the failure is this old: a request that
# has just paid one socket timeout is not made to pay another.
BYPASS_AFTER_SECONDS = 1.0

# The seconds each failed call of the current request waited (None outside a request): calls
# the breaker refused at once are not in it.
_request_waits: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "cache_request_waits", default=None
)


def count_request_failures() -> None:
    """Start counting the failed calls of the request this thread now serves."""
    _request_waits.set([])


def request_waits() -> list[float]:
    """How long each call of the current request that met a failing cache waited."""
    return _request_waits.get() or []


def _guarded(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        if self._open(wait=settings.CACHE_RETRY_SECONDS):
            raise CacheUnavailable("the shared cache failed moments ago")
        return self._call(method, *args, **kwargs)

    return call


# Store ARGV[1] (a whole number) unless the key holds a number at least as large; ARGV[2]: ms.
SET_IF_GREATER = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class SharedRedisCache(RedisCache):
    """Django's Redis cache with short timeouts, no retries and a breaker (see the module)."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_timeout", settings.CACHE_SOCKET_TIMEOUT)
        options.setdefault("socket_connect_timeout", settings.CACHE_SOCKET_TIMEOUT)
        super().__init__(server, {**params, "OPTIONS": options})
        servers = server.split(",") if isinstance(server, str) else list(server)
        self.breaker_key = tuple(servers)
        self._writer_url = servers[0]  # where Django's client writes, too
        self._writer_options = options
        self._writer = None

    def available(self) -> bool:
        """False while the breaker is open (the cache failed moments ago)."""
        return not self._open(wait=settings.CACHE_RETRY_SECONDS)

    def _open(self, *, wait: float) -> bool:
        failed = _failed_at.get(self.breaker_key)
        return failed is not None and time.monotonic() - failed < wait

    def _call(self, method, *args, **kwargs):
        started = time.monotonic()
        try:
            result = method(self, *args, **kwargs)
        except FAILURES:
            failed = time.monotonic()
            with _lock:
                _failed_at[self.breaker_key] = failed
            waits = _request_waits.get()
            if waits is not None:
                waits.append(failed - started)
            raise
        if self.breaker_key in _failed_at:
            with _lock:
                _failed_at.pop(self.breaker_key, None)
        return result

    def _script_client(self):
        if self._writer is None:
            timeouts = ("socket_timeout", "socket_connect_timeout")
            self._writer = redis.Redis.from_url(
                self._writer_url, **{k: v for k, v in self._writer_options.items() if k in timeouts}
            )
        return self._writer

    def set_if_greater(self, key, value: int, timeout: float) -> bool:
        """Store the whole number ``value`` unless ``key`` holds one at least as large, in one
        atomic step (a read-your-writes position only moves forward). Asks Redis even while the
        breaker is open, unless it failed under a second ago: without that, a write made in the
        seconds after Redis came back (while this process's breaker was still open) would leave
        no position for other processes to see.
        """
        if self._open(wait=min(BYPASS_AFTER_SECONDS, settings.CACHE_RETRY_SECONDS)):
            raise CacheUnavailable("the shared cache failed moments ago")
        full_key = self.make_and_validate_key(key)

        def run(_self):
            return self._script_client().eval(
                SET_IF_GREATER, 1, full_key, int(value), max(1, int(timeout * 1000))
            )

        return bool(self._call(run))


for _name in GUARDED:
    setattr(SharedRedisCache, _name, _guarded(getattr(RedisCache, _name)))


def reset() -> None:
    """Close every breaker (tests)."""
    with _lock:
        _failed_at.clear()
