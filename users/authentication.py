"""API token authentication: ``Authorization: Bearer <key>`` or ``Authorization: Token <key>``.

A token is looked up on the primary (a standby may not have replayed a revocation yet; a
standby answers only while the primary is down, and its answers are never remembered), and a
verified token is remembered by the process for ``API_TOKEN_CACHE_SECONDS`` (never past its
``expires_at``; an expired token is a 401 saying so): a lookup is a
three-table query, the largest single cost of a small read.

Remembered tokens never outlive a change made through the application. Saving or deleting a
token, a user or a client forgets this process's tokens at once and, when the change commits,
writes a new *token epoch* into the shared cache (``CACHE_URL``); each request reads the epoch
(one small cache read) and trusts only tokens verified under the current one, so every process
looks again after the commit. An epoch the cache could not take (Redis down or frozen) is written
on its next success, and a process that saw the cache fail trusts no remembered token for
``API_TOKEN_CACHE_SECONDS``. Changes that bypass the ORM's signals (raw SQL,
``QuerySet.update()``) are seen within ``API_TOKEN_CACHE_SECONDS``. ``0`` looks every
request's token up.
"""

from __future__ import annotations

import copy
import functools
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from core import metrics, shared_cache
from core.db.router import primary_first
from core.db.state import identify
from core.models import Client
from users.models import ApiToken, User, token_digest

logger = logging.getLogger(__name__)

KEYWORDS = ("bearer", "token")
EPOCH_KEY = "auth:token-epoch"
UNKNOWN_EPOCH = object()  # the shared cache could not be read: remember nothing


@functools.cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    """The columns a remembered row keeps (a user's embedding is never needed here)."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname != "embedding")


def _values(row: Model) -> tuple:
    return tuple(getattr(row, name) for name in _attnames(type(row)))


def _build(model: type[Model], values: tuple) -> Model:
    # JSON values (a user's preferences) are the only mutable ones: each request gets its own.
    values = tuple(copy.deepcopy(v) if isinstance(v, dict | list) else v for v in values)
    return model.from_db("default", _attnames(model), values)


@dataclass(frozen=True)
class Verified:
    """A token that passed verification: plain values, made into fresh objects per request."""

    epoch: object
    valid_until: float
    token: tuple
    user: tuple
    client: tuple

    @classmethod
    def of(cls, token: ApiToken, *, epoch: object, seconds: float) -> Verified:
        user = token.user
        return cls(
            epoch, time.monotonic() + seconds, _values(token), _values(user), _values(user.client)
        )

    @property
    def user_id(self) -> int:
        return self.token[_attnames(ApiToken).index("user_id")]

    def objects(self) -> tuple[User, ApiToken]:
        """New instances: nothing a request does to them reaches another request."""
        user = _build(User, self.user)
        user.client = _build(Client, self.client)
        token = _build(ApiToken, self.token)
        token.user = user
        return user, token


class TokenCache:
    """Tokens this process verified lately, by digest."""

    max_entries = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, Verified] = {}

    def get(self, digest: str) -> Verified | None:
        """The entry for ``digest`` if it has not expired (its epoch is the caller's to check)."""
        entry = self._entries.get(digest)
        if entry is not None and entry.valid_until <= time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, token: ApiToken, epoch: object) -> None:
        seconds = settings.API_TOKEN_CACHE_SECONDS
        if token.expires_at is not None:
            # Never remembered past its expiry: then it is looked up, and refused.
            seconds = min(seconds, (token.expires_at - timezone.now()).total_seconds())
        if seconds <= 0 or epoch is UNKNOWN_EPOCH or epoch is None:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = Verified.of(token, epoch=epoch, seconds=seconds)

    def clear(self) -> None:
        self._entries.clear()


tokens = TokenCache()


def current_epoch() -> object:
    """The shared token epoch, or UNKNOWN_EPOCH when the shared cache cannot tell it.

    A missing epoch (never written yet, or evicted from the cache) is replaced by a new one
    first: an absent key must never match a token remembered while it was absent before.
    """
    try:
        epoch = cache.get(EPOCH_KEY)
        if epoch is None:
            cache.add(EPOCH_KEY, secrets.token_hex(8), timeout=None)
            epoch = cache.get(EPOCH_KEY)
    except Exception:  # any cache backend's error: trust no remembered token
        shared_cache.note_failure()
        logger.warning("token epoch unreadable; looking tokens up")
        return UNKNOWN_EPOCH
    return UNKNOWN_EPOCH if epoch is None else epoch


def _write_epoch() -> None:
    cache.set(EPOCH_KEY, secrets.token_hex(8), timeout=None)


def new_epoch() -> None:
    """Make every process verify its tokens again."""
    tokens.clear()
    try:
        _write_epoch()
    except Exception:  # any cache backend's error: written on the cache's next success
        shared_cache.note_failure()
        shared_cache.owe(EPOCH_KEY, _write_epoch)
        logger.warning("token epoch not written; owed to the shared cache")


# Saves that change nothing a token grants (Django records each admin login this way).
HARMLESS_UPDATES = frozenset({"last_login"})


def forget_tokens(sender, using: str | None = None, update_fields=None, **kwargs) -> None:
    """A token, a user or a client changed: here at once, everywhere once it commits."""
    if update_fields is not None and set(update_fields) <= HARMLESS_UPDATES:
        return
    tokens.clear()
    transaction.on_commit(new_epoch, using=using, robust=True)


def connect_signals() -> None:
    """Called by ``UsersConfig.ready()``: in every process (API, admin, commands, workers), a
    saved or deleted token, user or client forgets remembered tokens."""
    for model in (ApiToken, User, Client):
        for signal in (post_save, post_delete):
            signal.connect(
                forget_tokens, sender=model, dispatch_uid=f"forget-tokens-{signal}-{model}"
            )


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Look the token's digest up (or remember it); tell the router who is asking."""

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
        verified = tokens.get(digest)
        epoch = None
        if verified is not None:
            # The epoch comes with the user's read-your-writes pin: one shared-cache read.
            found = identify(verified.user_id, also_read=(EPOCH_KEY,))
            epoch = UNKNOWN_EPOCH if found is None else found.get(EPOCH_KEY)
            # A change made while the cache failed may not have reached the epoch yet.
            seconds = settings.API_TOKEN_CACHE_SECONDS
            if epoch == verified.epoch and not shared_cache.failed_within(seconds):
                metrics.count(metrics.TOKEN_CACHE, "hit")
                return verified.objects()
        metrics.count(metrics.TOKEN_CACHE, "miss")
        if epoch is None:
            epoch = current_epoch()
        token, on_primary = self._find(digest)
        if token is None or not token.user.active or not token.user.client.active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.expired():
            raise exceptions.AuthenticationFailed("Token expired: ask for a new one.")
        if on_primary:
            # A standby's answer may predate a revocation: used, never remembered.
            tokens.put(digest, token, epoch)
        identify(token.user.pk)
        return token.user, token

    @staticmethod
    def _find(digest: str) -> tuple[ApiToken | None, bool]:
        """The token with its user and client, and whether the primary said so."""
        # The digest is unique: [:1] spares first()'s ORDER BY.
        matching = (
            ApiToken.objects.select_related("user", "user__client")
            .defer("user__embedding")
            .filter(digest=digest)[:1]
        )
        return primary_first(lambda alias: next(iter(matching.using(alias)), None))

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too), in the schema."""

    target_class = ApiTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token: from POST /api/auth/token (email and password) or the "
                "create_api_user command."
            ),
        }
