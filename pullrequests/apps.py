"""Pull requests of each client."""

from django.apps import AppConfig


class PullRequestsConfig(AppConfig):
    """Pull requests app."""

    name = "pullrequests"
    verbose_name = "Pull requests"
    # Routed under /api/ by config/api_urls.py: (prefix, viewset, basename).
    api_routes = (("pull-requests", "pullrequests.views.PullRequestViewSet", "pullrequest"),)
