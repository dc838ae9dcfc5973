"""Jira issues of each client."""

from django.apps import AppConfig


class IssuesConfig(AppConfig):
    """Issues app."""

    name = "issues"
