"""Projects of each client."""

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    """Projects app."""

    name = "projects"
    # Routed under /api/ by config/api_urls.py: (prefix, viewset, basename).
    api_routes = (("projects", "projects.views.ProjectViewSet", "project"),)
