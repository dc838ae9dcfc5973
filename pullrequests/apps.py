"""Pull requests of each client."""

from django.apps import AppConfig


class PullRequestsConfig(AppConfig):
    """Pull requests app."""

    name = "pullrequests"
    verbose_name = "Pull requests"
