"""Who may manage users, for the API: the rules are ``users.policy``'s."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from users import policy


class UserManagementPermission(BasePermission):
    """Members read; admins create, change and delete; others may edit only their own profile."""

    message = policy.ADMINS_ONLY

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or policy.manages_users(request.user):
            return True
        return view.action in ("update", "partial_update", "me", *getattr(view, "read_actions", ()))

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        refused = (
            policy.delete_refused(request.user, obj)
            if request.method == "DELETE"
            else policy.change_refused(request.user, obj)
        )
        if refused:
            self.message = refused
        return refused is None
