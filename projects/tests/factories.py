"""Factories for projects."""

import factory

from core.tests.factories import ClientFactory
from projects.models import Project


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project of a client."""

    class Meta:
        model = Project

    client = factory.SubFactory(ClientFactory)
    key = factory.Sequence(lambda n: f"P{n}")
    name = factory.Faker("catch_phrase")
    project_type = "software"


# A body each model's create endpoint accepts (the contract tests create rows with it).
CREATE_BODIES = {Project: {"key": "NEW", "name": "New"}}
