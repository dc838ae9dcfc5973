"""Projects of each client."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Projects app."""

    name = "projects"
