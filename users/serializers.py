"""User representation: passwords are write-only and hashed; roles are changed by admins only."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers

from core.api.exceptions import Conflict
from core.api.grammar import StrictDictField
from core.api.serializers import TENANT_READ_ONLY_FIELDS, TenantModelSerializer
from users import policy
from users.models import User
from users.tokens import FailedLogins, account_ident


class UserSerializer(TenantModelSerializer):
    """A member of the caller's client."""

    is_admin = serializers.BooleanField(read_only=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        min_length=8,
        max_length=128,
        trim_whitespace=False,  # kept as sent: a login sends it as it was typed
        style={"input_type": "password"},
        help_text=(
            "Write-only: set by an admin (a new user's first password) or by the user with "
            "current_password. With it the user gets tokens at POST /api/auth/token; Django's "
            "password validators apply (common, too short, too like the address)."
        ),
    )
    current_password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your own password, to change it (not needed for others' or a first one).",
    )
    preferences = StrictDictField(required=False, help_text="Free-form settings of the user.")

    class Meta:
        model = User
        fields = (
            *TENANT_READ_ONLY_FIELDS,
            "email",
            "first_name",
            "last_name",
            "role",
            "is_admin",
            "preferences",
            "password",
            "current_password",
            "embedding",
        )
        read_only_fields = TENANT_READ_ONLY_FIELDS
        extra_kwargs = {"email": {"validators": []}}

    def validate_email(self, value: str) -> str:
        value = value.lower()
        # Unique within the client only: another client's addresses are not this one's business
        # (a conflict there would tell whether an address has an account anywhere).
        # Stored lower-case: the same comparison as the unique constraint, the bulk upsert's
        # lookup and the email filter.
        others = User.objects.filter(client_id=self.context["client_id"], email=value, active=True)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.using("default").exists():
            raise Conflict(
                "A user of your client already has this email address.", fields=["email"]
            )
        return value

    def validate_role(self, value: str) -> str:
        refused = policy.role_refused(self.context["request"].user, self.instance, value)
        if refused:
            raise exceptions.PermissionDenied(refused)
        return value

    def validate(self, attrs: dict) -> dict:
        current = attrs.pop("current_password", None)
        request = self.context.get("request")
        own = (
            self.instance is not None
            and request is not None
            and request.user.pk == self.instance.pk
        )
        if current is not None and not (own and "password" in attrs):
            raise serializers.ValidationError(
                {"current_password": ["Only with a new password of your own."]}
            )
        if "password" in attrs and own:
            self._check_own_password_change(request.user, current)
        if "password" in attrs:
            self._check_password_strength(attrs)
        return attrs

    def _check_password_strength(self, attrs: dict) -> None:
        """Django's validators, with the account as it will be (so that a password too like the
        address or the name is refused on a new user too)."""
        account = User(
            **{
                name: attrs.get(name, getattr(self.instance, name, ""))
                for name in ("email", "first_name", "last_name")
            }
        )
        try:
            validate_password(attrs["password"], user=account)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": error.messages}) from None

    def _check_own_password_change(self, actor: User, current: str | None) -> None:
        """A token alone (which may leak) does not turn into the account's password: the
        current one is needed, and wrong ones count against the account as failed logins do;
        a first password is an admin's to set."""
        if not self.instance.has_usable_password():
            if not policy.manages_users(actor):
                raise serializers.ValidationError(
                    {"password": ["Your first password is set by an admin of your client."]}
                )
            return
        if current is None:
            raise serializers.ValidationError(
                {"current_password": ["Needed to change your own password."]}
            )
        failures = FailedLogins("API_LOGIN_FAILURES_PER_ACCOUNT", "account")
        account = account_ident(self.instance.client_id, self.instance.email)
        locked = failures.attempt(account)
        if locked or not self.instance.check_password(current):
            raise serializers.ValidationError({"current_password": ["Wrong password."]})
        failures.take_back(account)

    def create(self, validated_data: dict) -> User:
        password = validated_data.pop("password", None)
        return User.objects.create_user(password=password, **validated_data)

    def update(self, instance: User, validated_data: dict) -> User:
        password = validated_data.pop("password", None)
        if password is not None:
            instance.set_password(password)
        return super().update(instance, validated_data)
