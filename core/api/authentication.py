"""API token authentication: ``Authorization: Bearer <key>`` or ``Authorization: Token <key>``.

A verified token is remembered by the process for ``API_TOKEN_CACHE_SECONDS`` (a lookup is a
three-table query, the largest single cost of a small read). Deleting a token, or saving its
user or client (deactivation, a new role), forgets every remembered token of the process at
once; other processes notice within ``API_TOKEN_CACHE_SECONDS`` plus the standby's lag, since a
lookup reads the standby. ``0`` looks every request's token up.
"""

from __future__ import annotations

import copy
import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework import authentication, exceptions

from core.db.state import identify
from core.models import Client
from users.models import ApiToken, User, token_digest

KEYWORDS = ("bearer", "token")


class TokenCache:
    """Tokens this process verified lately: digest -> (valid until, token with user and client)."""

    max_entries = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, ApiToken]] = {}

    def get(self, digest: str) -> ApiToken | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, digest: str, token: ApiToken) -> None:
        seconds = settings.API_TOKEN_CACHE_SECONDS
        if seconds <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + seconds, token)

    def clear(self) -> None:
        self._entries.clear()


tokens = TokenCache()


@receiver(post_delete, sender=ApiToken)
@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
@receiver(post_save, sender=Client)
@receiver(post_delete, sender=Client)
def forget_tokens(sender, **kwargs) -> None:
    """A token, a user or a client changed: verify every token afresh."""
    tokens.clear()


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Look the token's digest up; tell the router who is asking."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <token>'."
            )
        try:
            key = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        digest = token_digest(key)
        token = tokens.get(digest)
        if token is None:
            token = self._find(digest)
            if token is None or not token.user.active or not token.user.client.active:
                raise exceptions.AuthenticationFailed("Invalid token.")
            tokens.put(digest, token)
        # Each request gets its own user object: nothing a view does to it outlives the request.
        user = copy.copy(token.user)
        identify(user.pk)
        return user, token

    @staticmethod
    def _find(digest: str) -> ApiToken | None:
        # The digest is unique: [:1] spares first()'s ORDER BY on every request.
        # The user's embedding (6 kB when set) is never needed to authenticate.
        matching = (
            ApiToken.objects.select_related("user", "user__client")
            .defer("user__embedding")
            .filter(digest=digest)[:1]
        )
        # A token issued a moment ago may not have reached the standby yet: ask the primary
        # before refusing it.
        return next(iter(matching), None) or next(iter(matching.using("default")), None)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
