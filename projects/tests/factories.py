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
