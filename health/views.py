"""Health endpoints."""

from django.http import HttpRequest, JsonResponse


def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers; no database is touched."""
    return JsonResponse({"status": "ok"})
