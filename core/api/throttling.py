"""Request rate limits for anonymous and authenticated callers, read from settings at run time.

DRF's throttles keep every request's timestamp of the last period in one cache entry, read and
rewritten whole on each request: at a limit of 6,000 a minute that is a list of up to 6,000
floats pickled twice per request. Here each caller has one counter per period-long window; the
rate is the current window's count plus the previous window's, weighted by how much of it still
lies within the last period (a sliding window, as rate limiters at the edge count). Each
request costs two small reads and an increment, whatever the limit. Like every constant-size
scheme it assumes the previous window's requests were spread out: a caller who fills the end
of one window can add up to about the limit again over the next period, so an adversarial
burst pattern can reach twice the limit within one period, never more. Increments are atomic
in the in-process (default) and Redis caches; with a file or database cache concurrent
requests may lose an increment.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class SlidingWindowThrottleMixin:
    """Counts live in the ``throttle`` cache (``THROTTLE_CACHE_URL``), one counter per window."""

    def __init__(self) -> None:
        self.cache = caches["throttle"]
        super().__init__()
        self.wait_seconds = 0.0
        # The generic incr() (file and database caches) rewrites the entry with the default
        # timeout, which may be shorter than the two windows a counter must live.
        self._incr_keeps_expiry = type(self.cache).incr is not BaseCache.incr

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        position = now / self.duration
        window = math.floor(position)
        current, previous = f"{key}:{window}", f"{key}:{window - 1}"
        counts = self.cache.get_many([current, previous])
        in_current, in_previous = counts.get(current, 0), counts.get(previous, 0)
        overlap = 1 - (position - window)  # share of the previous window still within the period
        if in_current + in_previous * overlap >= self.num_requests:
            self.wait_seconds = self._wait(in_current, in_previous, position - window)
            return False
        lifetime = self.duration * 2
        try:
            self.cache.incr(current)
        except ValueError:  # the window's first request
            if self.cache.add(current, 1, timeout=lifetime):
                return True
            self.cache.incr(current)
        if not self._incr_keeps_expiry:
            self.cache.touch(current, timeout=lifetime)
        return True

    def _wait(self, in_current: int, in_previous: int, elapsed: float) -> float:
        """Seconds until a request would be allowed, if nobody else asks meanwhile."""
        if in_current >= self.num_requests:
            # Full on its own: the next window, where this one weighs as the previous.
            return (1 - elapsed) * self.duration
        # The previous window's share must shrink until one more request fits.
        needed = 1 - (self.num_requests - in_current) / in_previous
        return max(needed - elapsed, 0.0) * self.duration

    def wait(self) -> float:
        return max(self.wait_seconds, 1.0)


class AnonymousThrottle(SlidingWindowThrottleMixin, AnonRateThrottle):
    """Per-IP limit for callers without a token (``API_THROTTLE_ANON``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_ANON or None


class AuthenticatedThrottle(SlidingWindowThrottleMixin, UserRateThrottle):
    """Per-user limit for callers with a token or session (``API_THROTTLE_USER``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_USER or None
