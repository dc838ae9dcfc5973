"""The tenant (Client) and the abstract base every tenant-owned row is built on."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now

from core.changes import change_xid_field


class TimestampedModel(models.Model):
    """Soft-delete flag and creation/update times.

    Each has a database default too, so that a plain SQL ``INSERT`` need not name them.
    """

    active = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    last_updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        abstract = True


class Client(TimestampedModel):
    """A tenant of the platform: every domain and ML row belongs to exactly one."""

    name = models.CharField(max_length=200, unique=True)

    class Meta:
        db_table = "clients"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantModel(TimestampedModel):
    """A row owned by one client, stamped by the transaction that last wrote it
    (``core.changes``: the model's ``Meta.triggers`` include ``row_stamp_trigger()``)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    change_xid = change_xid_field()

    class Meta:
        abstract = True


class TenantRowCount(models.Model):
    """Active rows of one client in one table, kept exact by triggers (``core.counts``)."""

    table_name = models.CharField(max_length=63)
    client_id = models.BigIntegerField()
    rows = models.BigIntegerField(default=0)

    class Meta:
        db_table = "tenant_row_counts"
        constraints = [
            models.UniqueConstraint(
                fields=["table_name", "client_id"], name="tenant_row_counts_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.table_name} of client {self.client_id}: {self.rows}"


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` and the answer of the request that first sent it
    (``core.api.idempotency``); kept for ``IDEMPOTENCY_KEY_HOURS``."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    user_id = models.BigIntegerField(help_text="Who sent it: only they get its answer.")
    fingerprint = models.CharField(max_length=64, help_text="HMAC-SHA256 of method, path and body.")
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "idempotency_keys"
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_keys_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_keys_age_idx")]

    def __str__(self) -> str:
        return f"{self.key} of client {self.client_id}"


def tenant_list_index(table: str) -> models.Index:
    """The index behind "the client's active rows, newest first" (every list endpoint)."""
    return models.Index(
        fields=["client", "-created_at", "-id"],
        condition=models.Q(active=True),
        name=f"{table}_list_idx",
    )
