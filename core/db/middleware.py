"""Per-request database routing: a fresh routing scope, and 503 when the database is down."""

from __future__ import annotations

import logging

from django.contrib.auth import SESSION_KEY
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.db.state import pin_user, request_scope

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = "The database is unavailable; retry shortly."


def database_unavailable_response() -> JsonResponse:
    """The 503 every client sees when the database cannot serve the request."""
    response = JsonResponse({"detail": UNAVAILABLE_DETAIL}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseRoutingMiddleware:
    """Open a routing scope per request and pin users who wrote to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        session_user = session.get(SESSION_KEY) if session is not None else None
        with request_scope(user_id=int(session_user) if session_user else None) as state:
            request.db_routing = state
            response = self.get_response(request)
            if state.wrote and response.status_code < 500:
                user = getattr(request, "user", None)
                user_id = state.user_id or (user.pk if user and user.is_authenticated else None)
                if user_id is not None:
                    # Read-your-writes for this user's next requests, in every process.
                    pin_user(user_id)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("database unavailable: %s", type(exception).__name__)
            return database_unavailable_response()
        return None
