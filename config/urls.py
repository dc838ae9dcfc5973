"""Top-level URLs: the API, its schema and docs, health, and the admin.

Every path is the project's own: anything else is answered by ``handler404`` (JSON under
``/api/``), even with ``DEBUG`` on, whose page would list every URL pattern.
"""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.api_urls import router as api_router
from core.api.exceptions import not_found, read_only_json
from core.api.index import api_index_view, service_index
from core.metrics import metrics_view

# The schema and the docs are the same for everyone and hold no data: a code generator run
# twice a minute is not refused (they are not counted against the anonymous limit).
UNTHROTTLED: list = []

# Each routed resource's list, then the schema and the docs (the index at /api/).
RESOURCES = {
    **{
        prefix.replace("/", "_").replace("-", "_"): f"/api/{prefix}"
        for prefix, _, _ in api_router.registry
    },
    "auth_token": "/api/auth/token",
    "auth_tokens": "/api/auth/tokens",
    "schema": "/api/schema/",
    "docs": "/api/docs/",
}
urlpatterns = [
    path("", service_index, name="index"),
    path("", include("health.urls")),
    path("admin/", admin.site.urls),
    # Prometheus's scrapers only: off unless METRICS_TOKEN or METRICS_ALLOWED_NETWORKS is set.
    re_path(r"^metrics/?$", read_only_json(metrics_view), name="metrics"),
    re_path(r"^api/?$", api_index_view(RESOURCES), name="api-index"),
    path("api/auth/", include("users.urls")),
    path("api/", include("config.api_urls")),
    # GET and HEAD only (a JSON 405 otherwise: OPTIONS on the docs would render a missing template).
    re_path(
        r"^api/schema/?$",
        read_only_json(SpectacularAPIView.as_view(throttle_classes=UNTHROTTLED)),
        name="schema",
    ),
    re_path(
        r"^api/docs/?$",
        read_only_json(
            SpectacularSwaggerView.as_view(url_name="schema", throttle_classes=UNTHROTTLED)
        ),
        name="swagger-ui",
    ),
    re_path(
        r"^api/redoc/?$",
        read_only_json(
            SpectacularRedocView.as_view(url_name="schema", throttle_classes=UNTHROTTLED)
        ),
        name="redoc",
    ),
    # A path that matches nothing is a 404 whatever the method (no CSRF check first: 403 would
    # be a lie, and an HTML one under /api/).
    re_path(r"^", csrf_exempt(not_found), name="not-found"),
]

handler400 = "core.api.exceptions.bad_request"
handler404 = "core.api.exceptions.not_found"
handler500 = "core.api.exceptions.server_error"
