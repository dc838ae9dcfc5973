"""Django admin for users (email login, client and role) and their API tokens (listed, revoked)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from core.admin import ReadOnlyAdmin
from users import policy
from users.models import ApiToken, User


class UserCreationAdminForm(AdminUserCreationForm):
    """Create a user by email, in a client, with a role."""

    class Meta:
        model = User
        fields = ("email", "client", "role")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()

    def clean(self) -> dict:
        cleaned = super().clean()
        email, client = cleaned.get("email"), cleaned.get("client")
        # Unique within a client; ask the primary, a standby may not have the newest user.
        if (
            email
            and client
            and User.objects.using("default")
            .filter(client=client, email__iexact=email, active=True)
            .exists()
        ):
            self.add_error(
                "email", ValidationError("This client already has a user with this email address.")
            )
        return cleaned


class UserChangeAdminForm(UserChangeForm):
    """Change a user; the password is shown as its hash summary, changed on its own page."""

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users of every client: email login, client, role and the Django staff flags."""

    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Tenant", {"fields": ("client", "role", "active")}),
        ("Personal info", {"fields": ("first_name", "last_name", "preferences")}),
        ("Permissions", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "last_updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "client", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "created_at", "last_updated_at")
    list_display = ("email", "client", "role", "first_name", "last_name", "is_staff", "active")
    list_filter = ("role", "is_staff", "is_superuser", "active", "client")
    list_select_related = ("client",)
    search_fields = ("email", "first_name", "last_name", "client__name")
    ordering = ("email",)
    date_hierarchy = "created_at"

    # The rules are users.policy's, as for the API.
    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or policy.operator_refused(request.user, obj) is None)

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return obj.pk != request.user.pk and policy.operator_refused(request.user, obj) is None

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        actor = request.user
        if policy.makes_operators(actor):
            return fields
        fields = (*fields, *policy.OPERATOR_FIELDS)
        if obj is not None and obj.pk == actor.pk:
            # Nobody changes their own role, nor moves themselves into another client.
            return (*fields, "role", "client")
        if not policy.manages_users(actor):
            return (*fields, "role")
        return fields


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """API tokens: who holds which (by prefix); the key is never stored, the digest never shown.

    Superusers may revoke (delete) tokens: the API refuses them from the next request on, in
    every process (``users.authentication``).
    """

    list_display = ("prefix_shown", "name", "user", "created_at", "expires_at")
    list_select_related = ("user", "user__client")
    search_fields = ("prefix", "name", "user__email")
    fields = ("prefix_shown", "name", "user", "created_at", "expires_at")
    readonly_fields = fields

    @admin.display(description="prefix")
    def prefix_shown(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser
