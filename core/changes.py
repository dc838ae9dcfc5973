"""Change stamps: what lets a reader copy a client's rows incrementally, and direct SQL writers in.

Every tenant table has a ``change_xid`` column and a row trigger (``row_stamp_trigger()``, in the
model's ``Meta.triggers``) that, on every INSERT and UPDATE, whoever runs it (the API, the admin,
an ETL job's plain SQL):

- stamps the row with the 64-bit id of the writing transaction (``pg_current_xact_id()``);
- sets ``last_updated_at`` to the statement's time when the UPDATE did not set it itself (the
  clock the column's default reads too: Django's ``Now()`` is ``STATEMENT_TIMESTAMP()``).

Why a transaction id and not a timestamp: a sync listing ordered by ``last_updated_at`` would skip
rows. A transaction that began at 10:00:00 may commit at 10:00:05, after a reader was served
everything up to 10:00:04 and moved its cursor past 10:00:00 for good. Transaction ids have the
property timestamps lack: every transaction below a snapshot's ``xmin`` has ended, so no row
stamped below it can appear later. A sync page (``core.api.sync``) therefore serves rows in
``(change_xid, id)`` order and only those stamped below the ``xmin`` of the snapshot that reads
them; rows of transactions still open when the page is read wait for a later page. The snapshot
is the reading statement's own, on the primary or a standby alike.
"""

from __future__ import annotations

import pgtrigger
from django.db import models

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
