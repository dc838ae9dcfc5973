"""The platform user (``AUTH_USER_MODEL``) and hashed API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from core.changes import row_stamp_trigger, tenant_sync_index
from core.counts import count_triggers
from core.fields import embedding_field, embedding_index
from core.models import Client, TenantModel


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    USER = "user", "User"
    VIEWER = "viewer", "Viewer"


class UserManager(BaseUserManager):
    """Creates users by email; a superuser without a client joins the "Platform" client."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        if "client" not in fields and "client_id" not in fields:
            fields["client"], _ = Client.objects.get_or_create(name="Platform")
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(TenantModel, AbstractBaseUser, PermissionsMixin):
    """A person of one client, logging in by email, with a role.

    An email address is unique within a client, not across clients: a global uniqueness would
    tell any client, by a 409, whether an address has an account anywhere on the platform.
    Logging in by email picks the account whose password matches (``users.backends``).
    """

    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True, default="", db_default="")
    last_name = models.CharField(max_length=150, blank=True, default="", db_default="")
    role = models.CharField(
        max_length=10, choices=Role.choices, default=Role.USER, db_default=Role.USER
    )
    preferences = models.JSONField(default=dict, db_default={}, blank=True)
    is_staff = models.BooleanField(
        default=False, db_default=False, help_text="Can log into the Django admin."
    )
    # Django's own columns, with database defaults for rows inserted by plain SQL: no password
    # ("!" is never a usable one) and no superuser.
    password = models.CharField("password", max_length=128, db_default="!")
    is_superuser = models.BooleanField(
        "superuser status",
        default=False,
        db_default=False,
        help_text="Designates that this user has all permissions without explicitly assigning "
        "them.",
    )
    embedding = embedding_field()

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        # Plain lists read total_count from the per-client counter these keep (core.counts).
        triggers = [*count_triggers(), row_stamp_trigger()]
        ordering = ["-created_at", "-id"]
        indexes = [
            tenant_sync_index("users"),
            models.Index(fields=["client", "active", "-created_at", "-id"], name="users_list_idx"),
            models.Index(fields=["client", "role"], name="users_role_idx"),
            # Logins by address (any client's: users.backends.accounts_matching).
            models.Index(Upper("email"), name="users_login_email_idx"),
            embedding_index("users"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="users_role_valid"
            ),
            models.UniqueConstraint(
                fields=["client", "email"],
                condition=models.Q(active=True),
                name="users_email_unique_per_client",
                violation_error_message="A user of your client already has this email address.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        """Django's login flag is the tenant soft-delete flag."""
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token; only its SHA-256 digest is stored, the key is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="default")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this time the token is refused (none: never)."
    )

    class Meta:
        db_table = "api_tokens"
        indexes = [models.Index(fields=["user", "created_at"], name="api_tokens_user_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(
        cls, *, user: User, name: str = "default", expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """Create a token for ``user``; returns it and the key (which is not stored)."""
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, digest=token_digest(key), prefix=key[:8], expires_at=expires_at
        )
        return token, key

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())
