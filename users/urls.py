"""``/api/auth/``: tokens over HTTP (``users.tokens``)."""

from django.urls import re_path

from core.api.routers import OptionalSlashRouter
from users.tokens import TokenObtainView, TokenViewSet

router = OptionalSlashRouter()
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = [
    re_path(r"^token/?$", TokenObtainView.as_view(), name="auth-token"),
    *router.urls,
]
