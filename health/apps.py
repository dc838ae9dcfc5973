"""Health endpoints and the healthcheck command."""

from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Health app."""

    name = "health"
