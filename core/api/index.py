"""What answers at ``/`` and ``/api/``: where things are, as JSON (no data, no authentication)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from core.api.exceptions import read_only_json

NAME = "Engineering analytics API"


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
