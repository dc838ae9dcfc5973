"""Users of the platform: tenant members with a role, and their API tokens."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users app."""

    name = "users"
    default_auto_field = "django.db.models.BigAutoField"
