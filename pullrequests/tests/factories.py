"""Factories for pull requests."""

import factory

from core.tests.factories import ClientFactory
from pullrequests.models import PullRequest


class PullRequestFactory(factory.django.DjangoModelFactory):
    """A pull request of a client."""

    class Meta:
        model = PullRequest

    client = factory.SubFactory(ClientFactory)
    repository = "acme/platform"
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Faker("sentence")
    status = "open"


# A body each model's create endpoint accepts (the contract tests create rows with it).
CREATE_BODIES = {PullRequest: {"repository": "acme/api", "number": 7, "name": "Add things"}}
