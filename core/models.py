"""The tenant (Client) and the abstract base every tenant-owned row is built on."""

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


def tenant_list_index(table: str) -> models.Index:
    """The index behind "the client's active rows, newest first" (every list endpoint)."""
    return models.Index(
        fields=["client", "-created_at", "-id"],
        condition=models.Q(active=True),
        name=f"{table}_list_idx",
    )
