"""Request rate limits for anonymous and authenticated callers, read from settings at run time.

DRF's throttles keep every request's timestamp of the last period in one cache entry, read and
rewritten whole on each request: at a limit of 6,000 a minute that is a list of up to 6,000
floats pickled twice per request. Here each caller has one counter per period-long window; the
rate is the current window's count plus the previous window's, weighted by how much of it still
lies within the last period (a sliding window, as rate limiters at the edge count). Each
request costs one small read and an increment, whatever the limit; a refused request is taken
back off the count. If the cache fails, requests are served uncounted (and a warning logged). Like every constant-size
scheme it assumes the previous window's requests were spread out: a caller who fills the end
of one window can add up to about the limit again over the next period, so an adversarial
burst pattern can reach twice the limit within one period, never more. Increments are atomic
in the in-process (default) and Redis caches; with a file or database cache concurrent
requests may lose an increment.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core import metrics
from core.db.state import current

logger = logging.getLogger(__name__)


class RateLimit(NamedTuple):
    """A caller's limit, what is left of it, and seconds until it is reset (see ``_allow``)."""

    limit: int
    remaining: int
    reset: int


RATE_LIMIT = "rate_limit"  # the attribute of the Django request that holds the tightest limit


def note_limit(request, status: RateLimit) -> None:
    """Remember ``status`` for the response's headers, unless a tighter one is noted already."""
    django_request = getattr(request, "_request", request)
    noted = getattr(django_request, RATE_LIMIT, None)
    if noted is None or status.remaining < noted.remaining:
        setattr(django_request, RATE_LIMIT, status)


def rate_limit_headers(request, response) -> None:
    """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds) of a counted request."""
    status = getattr(request, RATE_LIMIT, None)
    if status is not None:
        response["X-RateLimit-Limit"] = str(status.limit)
        response["X-RateLimit-Remaining"] = str(status.remaining)
        response["X-RateLimit-Reset"] = str(status.reset)


class SlidingWindowThrottleMixin:
    """Counts live in the ``throttle`` cache (``THROTTLE_CACHE_URL``), one counter per window.
    A caller without a token is counted by address, an IPv6 one by its /64 (which one host
    usually holds whole)."""

    wait_seconds = 0.0
    status: RateLimit

    def get_ident(self, request) -> str:
        address = super().get_ident(request)
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return address
        if parsed.version == 6:
            return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
        return address

    @property
    def cache(self):
        # Looked up when counting, so that a cache that cannot even be opened is a logged
        # warning like any other cache failure.
        return caches["throttle"]

    def allow_request(self, request, view) -> bool:
        if self.rate is None or current().attempts:
            # (A request re-run on another server after a standby failed was counted once.)
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        try:
            allowed = self._allow(key)
        except Exception:  # any cache backend's error: serve the request rather than fail it
            logger.warning("rate-limit cache unavailable; request not counted")
            metrics.count(metrics.CACHE_ERRORS, "throttle")
            return True
        note_limit(request, self.status)
        if not allowed:
            metrics.count(metrics.RATE_LIMITED, self.scope)
        return allowed

    def _windows(self, key: str) -> tuple[str, str, float]:
        """The current and the previous window's counters of ``key``, and how much of the
        current window has passed (0 to 1)."""
        position = self.timer() / self.duration
        window = math.floor(position)
        return f"{key}:{window}", f"{key}:{window - 1}", position - window

    def used(self, key: str) -> float:
        """How much of the limit ``key`` has used (counting nothing)."""
        current, previous, elapsed = self._windows(key)
        counts = self.cache.get_many([current, previous])
        return counts.get(current, 0) + counts.get(previous, 0) * (1 - elapsed)

    def _allow(self, key: str) -> bool:
        current, previous, elapsed = self._windows(key)
        # Counted first, checked after: concurrent requests cannot all slip in at the limit.
        in_current = self._add(current, 1)
        in_previous = self.cache.get(previous, 0)
        used = in_current + in_previous * (1 - elapsed)
        # Until the current window ends: then the requests of the one before stop counting.
        reset = math.ceil((1 - elapsed) * self.duration)
        if used <= self.num_requests:
            self.status = RateLimit(self.num_requests, math.floor(self.num_requests - used), reset)
            return True
        self._add(current, -1)  # a refused request does not count
        self.wait_seconds = self._wait(in_current - 1, in_previous, elapsed)
        self.status = RateLimit(self.num_requests, 0, math.ceil(self.wait()))
        return False

    def _add(self, key: str, delta: int) -> int:
        """Add ``delta`` to a window's counter; its new value."""
        cache, lifetime = self.cache, self.duration * 2
        try:
            count = cache.incr(key, delta)
        except ValueError:  # no counter yet: the window's first request (or it expired)
            if delta < 0:
                return 0
            if cache.add(key, delta, timeout=lifetime):
                return delta
            count = cache.incr(key, delta)
        if type(cache).incr is BaseCache.incr:
            # The generic incr() (file and database caches) rewrites the entry with the default
            # timeout, which may be shorter than the two windows a counter must live.
            cache.touch(key, timeout=lifetime)
        return count

    def _wait(self, in_current: int, in_previous: int, elapsed: float) -> float:
        """Seconds until one more request fits, if nobody else asks meanwhile."""
        room = self.num_requests - 1 - in_current
        if room >= 0 and in_previous:
            # Within this window: the previous window's share must shrink to ``room``.
            return max(1 - room / in_previous - elapsed, 0.0) * self.duration
        # This window alone is full: into the next, until this window's share has shrunk.
        shrink = max(0.0, 1 - (self.num_requests - 1) / in_current) if in_current else 0.0
        return (1 - elapsed + shrink) * self.duration

    def wait(self) -> float:
        return max(self.wait_seconds, 1.0)


class CountsFailedAuthentication:
    """A view mixin: a request refused for its credentials counts against the anonymous limit
    (DRF authenticates before it throttles): no unthrottled token guessing."""

    def initial(self, request, *args, **kwargs) -> None:
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
            self.check_throttles(request)
            raise


class AnonymousThrottle(SlidingWindowThrottleMixin, AnonRateThrottle):
    """Per-IP limit for callers without a token (``API_THROTTLE_ANON``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_ANON or None


class AuthenticatedThrottle(SlidingWindowThrottleMixin, UserRateThrottle):
    """Per-user limit for callers with a token or session (``API_THROTTLE_USER``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_USER or None
