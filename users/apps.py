"""Users of the platform: tenant members with a role, and their API tokens."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users app."""

    name = "users"
    default_auto_field = "django.db.models.BigAutoField"
    # Routed under /api/ by config/api_urls.py: (prefix, viewset, basename).
    api_routes = (("users", "users.views.UserViewSet", "user"),)

    def ready(self) -> None:
        # Revocation must not depend on what else a process happens to import.
        from users import authentication

        authentication.connect_signals()
