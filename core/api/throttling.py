"""Request rate limits for anonymous and authenticated callers, read from settings at run time."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonymousThrottle(AnonRateThrottle):
    """Per-IP limit for callers without a token (``API_THROTTLE_ANON``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_ANON or None


class AuthenticatedThrottle(UserRateThrottle):
    """Per-user limit for callers with a token or session (``API_THROTTLE_USER``)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_USER or None
