"""Request guards that apply before any view runs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413, before reading them.

    Django enforces the limit only on ``request.body``; DRF's parsers read the stream directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: {length} bytes; the limit is {limit}."},
                status=413,
            )
        return self.get_response(request)


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
