"""Exact list totals without counting: per-client active row counts kept by the database.

``COUNT(*)`` over a big client's active rows reads its whole index (tens of milliseconds at
100,000 rows, growing with the client), on every list request. Triggers (migration
``core/0002``) keep ``tenant_row_counts`` exact instead: statement-level, with transition tables,
so one INSERT/UPDATE/DELETE/COPY of many rows updates a client's count once, in the same
transaction; soft deletes (``active`` false) and moves between clients are counted; TRUNCATE
clears the table's counts. The trade-off: concurrent writers of one client's rows of one table
queue on that count row until each commits.

Only the plain list (the client's active rows, no filter) reads the counter; a filtered list
still counts its rows, so ``total_count`` stays exact either way.
"""

from __future__ import annotations

from django.db import connections, models

# The tables whose counts the triggers keep (migration core/0002).
COUNTED_TABLES = frozenset({"issues", "pull_requests", "projects", "users"})


def _plain_list(queryset: models.QuerySet, client_id: int) -> bool:
    """True when ``queryset`` selects exactly the client's active rows (any order)."""
    plain = queryset.model._base_manager.filter(client_id=client_id, active=True)
    return queryset.query.where == plain.query.where and not queryset.query.distinct


def tenant_rows_count(queryset: models.QuerySet, *, client_id: int) -> int:
    """The exact number of rows of ``queryset`` (a list of one client's rows)."""
    table = queryset.model._meta.db_table
    if table not in COUNTED_TABLES or not _plain_list(queryset, client_id):
        return queryset.count()
    # Plain SQL: compiling an ORM query would cost more than running this one.
    # Routed afresh (a standby lost since the page was read is not asked again).
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT rows FROM tenant_row_counts WHERE table_name = %s AND client_id = %s",
            [table, client_id],
        )
        row = cursor.fetchone()
    return row[0] if row else 0
