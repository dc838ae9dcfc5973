"""Change stamps: what lets a reader copy a client's rows incrementally, and direct SQL writers in.

Every tenant table has a ``change_xid`` column and a row trigger (``row_stamp_trigger()``, in the
model's ``Meta.triggers``) that, on every INSERT and UPDATE, whoever runs it (the API, the admin,
an ETL job's plain SQL):

- stamps the row with the 64-bit id of the writing transaction (``pg_current_xact_id()``);
- sets ``last_updated_at`` to the statement's time when the UPDATE did not set it itself (the
  clock the columns' database defaults read too: Django's ``Now()`` is ``STATEMENT_TIMESTAMP()``).

Why a transaction id and not a timestamp: a sync listing ordered by ``last_updated_at`` would skip
rows. A transaction that began at 10:00:00 may commit at 10:00:05, after a reader was served
everything up to 10:00:04 and moved its cursor past 10:00:00 for good. Transaction ids have the
property timestamps lack: every transaction below a snapshot's ``xmin`` has ended, so no row
stamped below it can appear later. A sync page (``core.api.pagination``) therefore serves rows in
``(change_xid, id)`` order (the order in which the writing transactions got their ids) and only
those stamped below the ``xmin`` of the snapshot that reads them; rows of transactions still open
when the page is read wait for a later page. The snapshot is the reading statement's own, on the
primary or a standby alike.

Transaction ids belong to one history of one cluster: a token carries the cluster's identity
(``cluster_id``), and a position the database has not reached (``next_xid``: after a failover to
a standby that had not received the latest transactions) is refused, so the reader starts again
rather than skip ids handed out anew. Writes that bypass the trigger (``DISABLE TRIGGER``,
``session_replication_role = replica``) and hard deletes are not seen by sync.

The Django ORM's saves set ``created_at`` and ``last_updated_at`` from the application's clock;
plain SQL and bulk writes from the database's. Sync does not depend on either.
"""

from __future__ import annotations

import pgtrigger
from django.db import connections, models

STAMP_TRIGGER = "row_stamps"

_STAMP = """
    NEW.change_xid := pg_current_xact_id()::text::bigint;
    IF TG_OP = 'UPDATE' AND NEW.last_updated_at IS NOT DISTINCT FROM OLD.last_updated_at THEN
        NEW.last_updated_at := statement_timestamp();
    END IF;
    RETURN NEW;
"""

# The SQL of "every transaction below this id has ended" for the statement that evaluates it.
HORIZON_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

# The cluster's identity: the same on a primary and its physical standbys, new after a restore
# into another cluster (where transaction ids start again).
_cluster_ids: dict[str, int] = {}


def cluster_id(alias: str) -> int:
    """``system_identifier`` of the cluster behind ``alias`` (read once per process)."""
    if alias not in _cluster_ids:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT system_identifier FROM pg_control_system()")
            _cluster_ids[alias] = cursor.fetchone()[0]
    return _cluster_ids[alias]


def next_xid(alias: str) -> int:
    """The first transaction id the server behind ``alias`` has not handed out yet (as far as
    it knows): a sync position at or above it is from another history."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def change_xid_field() -> models.BigIntegerField:
    """The column the stamp trigger fills (the database fills it: Django never writes it)."""
    return models.BigIntegerField(
        db_default=0,
        editable=False,
        help_text="The id of the transaction that last wrote the row (set by a trigger).",
    )


def row_stamp_trigger() -> pgtrigger.Trigger:
    """The row trigger that stamps writes (for a tenant model's ``Meta.triggers``)."""
    return pgtrigger.Trigger(
        name=STAMP_TRIGGER,
        level=pgtrigger.Row,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update,
        func=_STAMP,
    )


def tenant_sync_index(table: str) -> models.Index:
    """The index a sync listing reads: a client's rows in change order, deleted ones too."""
    return models.Index(fields=["client", "change_xid", "id"], name=f"{table}_sync_idx")
