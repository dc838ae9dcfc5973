"""API token authentication: ``Authorization: Bearer <key>`` or ``Authorization: Token <key>``."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from core.db.state import identify
from users.models import ApiToken, token_digest

KEYWORDS = ("bearer", "token")


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
        token = self._find(token_digest(key))
        if token is None or not token.user.active or not token.user.client.active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        identify(token.user.pk)
        return token.user, token

    @staticmethod
    def _find(digest: str) -> ApiToken | None:
        # The digest is unique: [:1] spares first()'s ORDER BY on every request.
        # The user's embedding (6 kB when set) is never needed to authenticate.
        tokens = (
            ApiToken.objects.select_related("user", "user__client")
            .defer("user__embedding")
            .filter(digest=digest)[:1]
        )
        # A token issued a moment ago may not have reached the standby yet: ask the primary
        # before refusing it.
        return next(iter(tokens), None) or next(iter(tokens.using("default")), None)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
