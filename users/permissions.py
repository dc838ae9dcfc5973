"""Who may manage users."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class UserManagementPermission(BasePermission):
    """Members read; admins create, change and delete; others may edit only their own profile."""

    message = "Only admins of this client manage users."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or request.user.is_admin or request.user.is_superuser:
            return True
        return view.action in ("update", "partial_update")

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or request.user.is_admin or request.user.is_superuser:
            return True
        return obj.pk == request.user.pk
