"""Role-based permissions: viewers read, users and admins write."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def looks_at_objects(view) -> bool:
    """Whether one of the view's permissions decides by the object (``has_object_permission``):
    then a row must be loaded and shown to it before anything is done with it."""
    return any(
        type(permission).has_object_permission is not BasePermission.has_object_permission
        for permission in view.get_permissions()
    )


class RolePermission(BasePermission):
    """Authenticated members of a client; viewers may only read.

    A view's ``read_actions`` are reads even when they POST (a search with a vector body).
    """

    message = "Viewers have read-only access."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS or getattr(view, "action", None) in getattr(
            view, "read_actions", ()
        ):
            return True
        return user.role != "viewer"


class AdminRolePermission(BasePermission):
    """Tenant admins (and platform superusers) only."""

    message = "Only admins of this client may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_admin or user.is_superuser))
