"""Session authentication that reads the operator's account on the primary."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from core.db.router import primary_first
from users.models import User


def accounts_matching(password: str, **where) -> list[User]:
    """The active accounts that match ``where`` (an address among them) and whose password is
    ``password``, read on the primary (a password just set, an account just deactivated).

    With no such account the password is hashed all the same: how long the answer takes says
    nothing about whether the address has an account. Each further account costs one more
    check (callers narrow ``where`` to one account where they can).
    """
    candidates, _ = primary_first(
        lambda alias: list(User._default_manager.using(alias).filter(active=True, **where))
    )
    if not candidates:
        User().set_password(password)
        return []
    return [user for user in candidates if user.check_password(password)]


class PrimaryModelBackend(ModelBackend):
    """Django's model backend, loading a session's user from the primary.

    The admin's session user is read on each request; from a standby, a deactivated operator or
    one who lost superuser rights would keep them until the standby replays the change. A
    standby answers only while the primary is down.

    Sessions are for the admin, which admits operators (staff) only, so a login by email and
    password considers active staff accounts alone: a tenant, who cannot create staff accounts,
    can neither learn from a login's timing whether an address has an account in another client
    nor make an operator's login fail by creating a look-alike account. An email address is unique
    per client, so among staff accounts with the address the one whose password matches is let in
    (none when two do).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if email is None or password is None:
            return None
        matching = accounts_matching(password, email__iexact=email, is_staff=True)
        if len(matching) != 1 or not self.user_can_authenticate(matching[0]):
            return None
        return matching[0]

    def get_user(self, user_id):
        user, _ = primary_first(
            lambda alias: User._default_manager.using(alias).filter(pk=user_id).first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
