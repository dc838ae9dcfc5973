"""Who is signed in to the admin, known to the request log without loading anyone."""

from __future__ import annotations

from django.contrib.auth import get_user
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, plus a record of the session's user once something loaded it.

    ``request.user`` stays lazy (a health probe never costs a user query); when a view does load
    it, the user is also kept in ``request.session_user``, which the request log reads without
    loading anything (``health.request_log``). Token-authenticated API requests have their user
    set by DRF instead.
    """

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)

        def load():
            user = get_user(request)
            request.session_user = user
            return user

        request.user = SimpleLazyObject(load)
