"""Jira issues of each client."""

from django.apps import AppConfig


class IssuesConfig(AppConfig):
    """Issues app."""

    name = "issues"
    # Routed under /api/ by config/api_urls.py: (prefix, viewset, basename).
    api_routes = (("issues", "issues.views.IssueViewSet", "issue"),)
