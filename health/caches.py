"""Whether the caches the service relies on answer: the shared cache and the rate-limit cache.

A cache that fails never stops the service (reads go to the primary, tokens are looked up
again, requests are served uncounted), so a failing cache makes readiness ``degraded``, named,
never ``unhealthy``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from core.redis_cache import SharedRedisCache

PROBE_KEY = "health:cache-probe"
SHARED = f"{SharedRedisCache.__module__}.{SharedRedisCache.__qualname__}"
NAMES = ("default", "throttle")


@dataclass(frozen=True)
class CacheStatus:
    """What one cache answered."""

    name: str
    shared: bool
    reachable: bool

    @property
    def problem(self) -> str | None:
        if self.reachable:
            return None
        label = "shared cache" if self.name == "default" else f"{self.name} cache"
        return f"{label} unreachable or refusing writes"

    def as_dict(self) -> dict:
        return {"status": "ok" if self.reachable else "unreachable", "shared": self.shared}


def cache_status(name: str) -> CacheStatus:
    """Write a fresh value to cache ``name`` and read it back (a cache that answers reads but
    refuses writes, out of memory or read-only, loses read-your-writes positions). Bounded by its
    socket timeout, or refused at once by an open breaker.
    """
    value = secrets.token_hex(8)
    try:
        backend = caches[name]  # opening a cache can fail too (a file cache's folder)
        backend.set(PROBE_KEY, value, timeout=60)
        reachable = backend.get(PROBE_KEY) == value
    except Exception:  # any backend's failure is the answer
        reachable = False
    return CacheStatus(name, settings.CACHES[name]["BACKEND"] == SHARED, reachable)


def cache_statuses() -> list[CacheStatus]:
    return [cache_status(name) for name in NAMES]
