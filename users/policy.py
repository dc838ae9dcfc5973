"""Who may manage whom: the one place these rules live.

The API's permission (``users.permissions``), serializer (``users.serializers``) and view
(``users.views``) and the Django admin (``users.admin``) all ask these functions; each answer is
``None`` (allowed) or the reason it is not, in words a caller can be shown.

- Members read their client's users; admins (and superusers) create, change and delete them; a
  member may change their own profile.
- Nobody changes their own role, and only admins and superusers change anyone's.
- Nobody deletes their own account.
- Platform operators (staff, superusers) reach every client: only superusers manage them, and
  only superusers make anyone an operator.
"""

from __future__ import annotations

from users.models import User

ADMINS_ONLY = "Only admins of this client manage users."
OPERATORS = "Operator accounts are managed by superusers only."
OWN_ROLE = "role: you cannot change your own role."
ROLES = "role: only admins manage roles."
OWN_ACCOUNT = "You cannot delete your own account."
# The fields that make an account an operator's (Django's own permission flags included).
OPERATOR_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def manages_users(actor: User) -> bool:
    """Whether ``actor`` may create users and change or delete others."""
    return bool(actor.is_superuser or actor.is_admin)


def operator_refused(actor: User, target: User) -> str | None:
    """Why ``actor`` may not touch ``target`` because ``target`` is an operator's account (the
    admin asks this; Django's own permissions decide the rest there)."""
    if actor.is_superuser or target.pk == actor.pk:
        return None
    return OPERATORS if (target.is_staff or target.is_superuser) else None


def change_refused(actor: User, target: User) -> str | None:
    """Why ``actor`` may not change ``target`` through the API (None: they may)."""
    if actor.is_superuser or target.pk == actor.pk:
        return None
    return operator_refused(actor, target) or (None if actor.is_admin else ADMINS_ONLY)


def delete_refused(actor: User, target: User) -> str | None:
    if target.pk == actor.pk:
        return OWN_ACCOUNT
    return change_refused(actor, target)


def role_refused(actor: User, target: User | None, role: str) -> str | None:
    """Why ``actor`` may not give ``target`` (None: a new user) the role ``role``."""
    if target is not None and target.pk == actor.pk:
        return None if role == target.role else OWN_ROLE
    return None if manages_users(actor) else ROLES


def makes_operators(actor: User) -> bool:
    """Whether ``actor`` may make an account an operator's (or change an operator's flags)."""
    return bool(actor.is_superuser)
