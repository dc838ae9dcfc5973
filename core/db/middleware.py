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


QUERY_CANCELED = "57014"  # statement_timeout


def database_error_response(error: Exception) -> JsonResponse:
    """The 503 a client sees when the database cannot serve the request.

    A query stopped by ``statement_timeout`` says so (and has no ``Retry-After``: the same
    request would take as long again); anything else is the database being unavailable.
    """
    if getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
        logger.warning("query stopped by statement_timeout")
        return JsonResponse(
            {"detail": "The request took too long to answer; narrow it (filters, a smaller page)."},
            status=503,
        )
    logger.error("database unavailable: %s", type(error).__name__)
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
            return database_error_response(exception)
        return None
