"""One log line per request: method, path, status, duration, caller, the databases that served it.

The first middleware: it also gives the request its id (``X-Request-ID``, in every line logged
while serving it and in the answer) and counts it in the metrics (``core.metrics``). The line is
JSON or text as ``LOG_FORMAT`` says (``core.logs``). The query string is left out: it may carry
tokens or personal data.
"""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from core import logs, metrics, redis_cache

logger = logging.getLogger(__name__)


def _caller(request: HttpRequest) -> tuple[int | None, int | None]:
    """The caller's client id and user id, when the request was authenticated."""
    user = getattr(request, "user", None)
    # The session's lazy user is never loaded here (a query on requests that never looked at
    # it, such as health probes): it is known only if the view loaded it
    # (users.middleware.AuthenticationMiddleware). DRF replaces it with the token's user.
    if isinstance(user, SimpleLazyObject):
        user = getattr(request, "session_user", None)
    if user is None:
        return None, None
    if not user.is_authenticated:
        return None, None
    return getattr(user, "client_id", None), user.pk


def request_fields(request: HttpRequest, response: HttpResponse, duration_ms: float) -> dict:
    """What is logged about one request."""
    routing = getattr(request, "db_routing", None)
    client_id, user_id = _caller(request)
    cache_waits = redis_cache.request_waits()
    return {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(duration_ms, 1),
        "client_id": client_id,
        "user_id": user_id,
        "db_read_aliases": list(routing.read_aliases) if routing is not None else [],
        "db_wrote": bool(routing.wrote) if routing is not None else False,
        "db_retries": routing.attempts if routing is not None else 0,
        "cache_failures": len(cache_waits),
        "cache_wait_ms": round(sum(cache_waits) * 1000, 1),
    }


class RequestLogMiddleware:
    """Log and count each request once it is answered (the first middleware: every answer is)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = logs.request_id_for(request.headers.get("X-Request-ID"))
        # Kept until the response is closed (core.logs.forget_request_id): Django logs a server
        # error's line after the middleware has returned.
        logs.request_id.set(request_id)
        redis_cache.count_request_failures()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        seconds = time.perf_counter() - started
        metrics.observe_request(request, response, seconds)
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if logger.isEnabledFor(level):
            fields = request_fields(request, response, seconds * 1000)
            message = f"{request.method} {request.path} {response.status_code}"
            logger.log(level, message, extra={"request_fields": fields})
        return response
