"""Top-level URLs: the API, its schema and docs, health, and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("health.urls")),
    path("admin/", admin.site.urls),
    path("api/ml/", include("mlmonitoring.urls")),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "core.api.exceptions.bad_request"
handler404 = "core.api.exceptions.not_found"
handler500 = "core.api.exceptions.server_error"
