"""Health endpoints: liveness, readiness, the database report and the ML report.

Plain Django views, not DRF ones: probes must answer without authentication, content
negotiation or throttling, and the bodies are built by ``health.checks``.

A probe needs the status, not the platform's inside: anonymous callers get the status (and,
from ``/health/ready``, whether the instance is ready) with the HTTP code that goes with it.
The whole report (servers, lag, session settings, table and embedding counts over every client)
is for operators: a signed-in staff user of the admin, or a staff user's API token.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from rest_framework.exceptions import AuthenticationFailed

from core.api.exceptions import read_only_json
from core.db.middleware import RETRY_AFTER_SECONDS
from health.checks import CheckResult, check_database, check_live, check_ml, check_ready
from users.authentication import ApiTokenAuthentication

PUBLIC_FIELDS = ("status", "ready", "timestamp")
DETAILS_NOTE = "The full report is for operators: sign in to the admin, or send a staff token."


def _operator(request: HttpRequest) -> bool:
    """A staff user, by admin session or API token (a bad token is simply not an operator)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    try:
        found = ApiTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return False
    return found is not None and found[0].is_staff


def _respond(request: HttpRequest, result: CheckResult, *, details: bool = True) -> JsonResponse:
    body = result.body
    if details and not _operator(request):
        body = {key: body[key] for key in PUBLIC_FIELDS if key in body} | {"details": DETAILS_NOTE}
    response = JsonResponse(body, status=result.http_status)
    if result.http_status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@never_cache
@read_only_json
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; no database is touched."""
    return _respond(request, check_live(), details=False)


@never_cache
@read_only_json
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 while the primary takes writes (reads fall back to it), else 503."""
    return _respond(request, check_ready())


@never_cache
@read_only_json
def database(request: HttpRequest) -> JsonResponse:
    """ML tables, embedding counts, primary and standby state; 503 when unhealthy."""
    return _respond(request, check_database())


@never_cache
@read_only_json
def ml(request: HttpRequest) -> JsonResponse:
    """PostgresML, pgvector, vector column access and the ML standby; 503 when unhealthy."""
    return _respond(request, check_ml())
