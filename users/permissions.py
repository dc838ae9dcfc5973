"""Who may manage users."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class UserManagementPermission(BasePermission):
    """Members read; admins create, change and delete; others may edit only their own profile."""

    message = "Only admins of this client manage users."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or request.user.is_admin or request.user.is_superuser:
            return True
        return view.action in ("update", "partial_update", *getattr(view, "read_actions", ()))

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or request.user.is_superuser:
            return True
        if obj.pk == request.user.pk:
            return True
        # Platform operators (staff, superusers) are managed by superusers only: a tenant admin
        # must not take over an account that reaches every client.
        if obj.is_superuser or obj.is_staff:
            self.message = "Operator accounts are managed by superusers only."
            return False
        return request.user.is_admin
