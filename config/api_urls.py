"""The domain API: ``/api/<resource>`` and ``/api/<resource>/<id>``, with or without a trailing slash.

Each app declares its routes (``api_routes`` on its AppConfig): a new app is routed by being
installed, and every test generated from the URL configuration or the schema covers it.
"""

from django.apps import apps
from django.utils.module_loading import import_string

from core.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
for app in apps.get_app_configs():
    for prefix, viewset, basename in getattr(app, "api_routes", ()):
        router.register(prefix, import_string(viewset), basename=basename)

urlpatterns = router.urls
