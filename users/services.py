"""Writes on users: creating API users and their tokens."""

from __future__ import annotations

from django.db import transaction

from core.models import Client
from users.models import ApiToken, Role, User


@transaction.atomic
def api_user_create(
    *, client_name: str, email: str, role: str | None = None
) -> tuple[User, str, str | None]:
    """Create the client if needed and the user (or reuse them), and issue a new API token.

    An existing user's role changes only when ``role`` is given. Returns the user, the token
    key (shown only now) and what became of the role (``None``: unchanged).
    """
    client, _ = Client.objects.get_or_create(name=client_name)
    user = User.objects.filter(client=client, email__iexact=email, active=True).first()
    change = None
    if user is None:
        user = User.objects.create_user(email=email, client=client, role=role or Role.USER)
        change = f"created with role {user.role}"
    elif role is not None and role != user.role:
        change = f"role changed from {user.role} to {role}"
        user.role = role
        user.save(update_fields=["role", "last_updated_at"])
    _, key = ApiToken.issue(user=user)
    return user, key, change
