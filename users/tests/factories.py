"""Factories for users."""

import factory

from core.tests.factories import ClientFactory
from users.models import ApiToken, Role, User


class UserFactory(factory.django.DjangoModelFactory):
    """A member of a client (role ``user`` unless told)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    email = factory.Sequence(lambda n: f"person{n}@example.test")
    role = Role.USER
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token of a user of ``client``."""

    class Meta:
        model = ApiToken

    class Params:
        client = factory.SubFactory(ClientFactory)

    user = factory.SubFactory(UserFactory, client=factory.SelfAttribute("..client"))
    digest = factory.Sequence(lambda n: f"{n:064x}")
    prefix = factory.Sequence(lambda n: f"{n:08x}")


# A body each model's create endpoint accepts (the contract tests create rows with it).
CREATE_BODIES = {User: {"email": "new@example.test"}}
