"""Demo data: a small, realistic data set for trying the API and the admin (``seed_demo``)."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data app (no models; a management command and the service behind it)."""

    name = "demo"
    verbose_name = "Demo data"
