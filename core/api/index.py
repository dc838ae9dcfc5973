"""What answers at ``/`` and ``/api/``: where things are, as JSON (no data, no authentication)."""

from __future__ import annotations

import functools

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.api.exceptions import method_not_allowed

NAME = "Engineering analytics API"


SAFE_METHODS = ("GET", "HEAD")


def read_only_json(view):
    """GET and HEAD only, any other method a JSON 405; no CSRF check, since nothing is changed."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return method_not_allowed(request, SAFE_METHODS)
        return view(request, *args, **kwargs)

    return wrapper


def _links(request: HttpRequest, paths: dict[str, str]) -> dict[str, str]:
    return {name: request.build_absolute_uri(path) for name, path in paths.items()}


@read_only_json
def service_index(request: HttpRequest) -> JsonResponse:
    """``/``: the API, its documentation, health and the admin."""
    return JsonResponse(
        {
            "name": NAME,
            "links": _links(
                request,
                {
                    "api": "/api/",
                    "docs": "/api/docs/",
                    "schema": "/api/schema/",
                    "health": "/health",
                    "admin": "/admin/",
                },
            ),
        }
    )


def api_index_view(resources: dict[str, str]):
    """``/api/``: every resource's list URL (``resources``: name -> path)."""

    @read_only_json
    def api_index(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"name": NAME, "links": _links(request, resources)})

    return api_index
