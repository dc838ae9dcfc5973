"""Health endpoints: liveness, readiness, the database report and the ML report.

Plain Django views, not DRF ones: probes must answer without authentication, content
negotiation or throttling, and the bodies are built by ``health.checks``.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.db.middleware import RETRY_AFTER_SECONDS
from health.checks import CheckResult, check_database, check_live, check_ml, check_ready


def _respond(result: CheckResult) -> JsonResponse:
    response = JsonResponse(result.body, status=result.http_status)
    if result.http_status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; no database is touched."""
    return _respond(check_live())


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 while the primary takes writes (reads fall back to it), else 503."""
    return _respond(check_ready())


@never_cache
@require_safe
def database(request: HttpRequest) -> JsonResponse:
    """ML tables, embedding counts, primary and standby state; 503 when unhealthy."""
    return _respond(check_database())


@never_cache
@require_safe
def ml(request: HttpRequest) -> JsonResponse:
    """PostgresML, pgvector, vector column access and the ML standby; 503 when unhealthy."""
    return _respond(check_ml())
