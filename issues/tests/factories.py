"""Factories for issues."""

import factory

from core.tests.factories import ClientFactory
from issues.models import Issue


class IssueFactory(factory.django.DjangoModelFactory):
    """An issue of a client (no project unless given)."""

    class Meta:
        model = Issue

    client = factory.SubFactory(ClientFactory)
    key = factory.Sequence(lambda n: f"ISS-{n}")
    summary = factory.Faker("sentence")
    priority = factory.Iterator(["High", "Medium", "Low"])
    status_name = factory.Iterator(["To Do", "In Progress", "Done"])
    issuetype_name = "Story"


# A body each model's create endpoint accepts (the contract tests create rows with it).
CREATE_BODIES = {Issue: {"key": "NEW-1", "summary": "New"}}
