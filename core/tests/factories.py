"""Factories for tenants."""

import factory

from core.models import Client


class ClientFactory(factory.django.DjangoModelFactory):
    """A tenant."""

    class Meta:
        model = Client
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Client {n}")
