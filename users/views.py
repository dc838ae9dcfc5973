"""User endpoints."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from core.api.bulk import BulkUpsertMixin
from core.api.permissions import RolePermission
from core.api.similarity import SimilarityMixin
from core.api.viewsets import TenantViewSet
from users import policy
from users.authentication import forget_tokens
from users.filters import UserFilter
from users.models import User
from users.permissions import UserManagementPermission
from users.serializers import UserSerializer


class UserViewSet(SimilarityMixin, BulkUpsertMixin, TenantViewSet):
    """Users of the caller's client."""

    # Passwords are set one user at a time (each is hashed on purpose slowly).
    bulk_excluded_fields = ("password", "current_password")
    bulk_key_normalizers = {"email": str.lower}

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    permission_classes = (IsAuthenticated, RolePermission, UserManagementPermission)
    list_key = "users"
    ordering_fields = ("created_at", "last_updated_at", "id", "email", "role")

    @extend_schema(
        summary="The caller's own account (GET), or a change to it (PATCH)",
        responses={200: UserSerializer},
        request=UserSerializer,
        filters=False,
    )
    @action(detail=False, methods=["get", "patch"], url_path="me", filterset_class=None)
    def me(self, request, *args, **kwargs):
        """The item of the caller's own user: the same representation, versions and rules."""
        self.kwargs[self.lookup_url_kwarg or self.lookup_field] = str(request.user.pk)
        if request.method == "PATCH":
            return self.partial_update(request, *args, **kwargs)
        return self.retrieve(request, *args, **kwargs)

    def may_see_deleted_rows(self, request) -> bool:
        # Former members' accounts are for those who manage users.
        return policy.manages_users(request.user)

    def bulk_written(self, *, created: list[int], updated: list[int]) -> None:
        # As a saved user does (users.authentication): tokens verified again everywhere.
        if updated:
            forget_tokens(sender=User, using="default")

    def perform_destroy(self, instance: User) -> None:
        # The permission asked already (has_object_permission); asked again where the row is
        # changed, so that no other path to a delete skips it.
        refused = policy.delete_refused(self.request.user, instance)
        if refused:
            raise exceptions.PermissionDenied(refused)
        super().perform_destroy(instance)
