"""One log line per request: method, path, status, duration, caller, the databases that served it.

JSON lines when ``DEBUG`` is off (for log collectors), plain text when it is on (for a
developer's terminal). The query string is left out: it may carry tokens or personal data.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

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
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(duration_ms, 1),
        "client_id": client_id,
        "user_id": user_id,
        "db_read_aliases": list(routing.read_aliases) if routing is not None else [],
        "db_wrote": bool(routing.wrote) if routing is not None else False,
        "db_retries": routing.attempts if routing is not None else 0,
    }


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escaped(text: str) -> str:
    """``text`` with control characters written as escapes: a path with a newline in it cannot
    forge a second log line."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def format_plain(fields: dict) -> str:
    """A developer-readable line (JSON lines escape by themselves)."""
    aliases = ",".join(fields["db_read_aliases"]) or "-"
    client = fields["client_id"] if fields["client_id"] is not None else "-"
    wrote = " db_wrote" if fields["db_wrote"] else ""
    retries = f" db_retries={fields['db_retries']}" if fields["db_retries"] else ""
    return (
        f"{fields['time']} {_escaped(fields['method'])} {_escaped(fields['path'])} "
        f"{fields['status']} "
        f"{fields['duration_ms']}ms client={client} db_reads={aliases}{wrote}{retries}"
    )


class RequestLogMiddleware:
    """Log each request once it is answered (the first middleware: every answer is logged)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if logger.isEnabledFor(level):
            fields = request_fields(request, response, (time.perf_counter() - started) * 1000)
            message = format_plain(fields) if settings.DEBUG else json.dumps(fields)
            logger.log(level, message, extra={"request_fields": fields})
        return response
