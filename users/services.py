"""Writes on users: creating API users and their tokens."""

from __future__ import annotations

from django.db import transaction

from core.models import Client
from users.models import ApiToken, Role, User


@transaction.atomic
def api_user_create(*, client_name: str, email: str, role: str = Role.USER) -> tuple[User, str]:
    """Create the client if needed and the user (or reuse them), and issue a new API token.

    Returns the user and the token key, which is shown only now.
    """
    client, _ = Client.objects.get_or_create(name=client_name)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, client=client, role=role)
    elif user.client_id != client.pk:
        raise ValueError(f"{email} already belongs to another client")
    else:
        user.role = role
        user.save(update_fields=["role", "last_updated_at"])
    _, key = ApiToken.issue(user=user)
    return user, key
