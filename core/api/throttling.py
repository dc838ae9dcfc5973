"""Request rate limits for anonymous and authenticated callers, read from settings at run time."""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class ThrottleCacheMixin:
    """Counts live in the ``throttle`` cache (``THROTTLE_CACHE_URL``)."""

    def __init__(self) -> None:
        self.cache = caches["throttle"]
        super().__init__()


class AnonymousThrottle(ThrottleCacheMixin, AnonRateThrottle):
    """Per-IP limit for callers without a token (``API_THROTTLE_ANON``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_ANON or None


class AuthenticatedThrottle(ThrottleCacheMixin, UserRateThrottle):
    """Per-user limit for callers with a token or session (``API_THROTTLE_USER``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_USER or None
