"""Exact list totals without counting: per-client active row counts kept by the database.

``COUNT(*)`` over a big client's active rows reads its whole index (tens of milliseconds at
100,000 rows, growing with the client), on every list request. Triggers (migration
``core/0002``) keep ``tenant_row_counts`` exact instead: statement-level, with transition tables,
so one INSERT/UPDATE/DELETE/COPY of many rows updates a client's count once, in the same
transaction; soft deletes (``active`` false) and moves between clients are counted; TRUNCATE
clears the table's counts. The trade-off: concurrent writers of one client's rows of one table
queue on that count row until each commits.

Only the plain list (the client's active rows, no filter) reads the counter; a filtered list
still counts its rows, so ``total_count`` stays exact either way. The list fast path selects the
counter with the page's rows (``counter_sql()``): one query, one snapshot.
"""

from __future__ import annotations

from django.db import connections, models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.sql.where import AND

# The tables whose counts the triggers keep (migration core/0002).
COUNTED_TABLES = frozenset({"issues", "pull_requests", "projects", "users"})


def _plain_list(queryset: models.QuerySet, client_id: int) -> bool:
    """True when ``queryset`` selects exactly the client's active rows (any order).

    Read off the WHERE tree (``client_id = <client> AND active``, nothing else): building the
    plain queryset to compare with costs about as much as the count query itself.
    """
    query = queryset.query
    where = query.where
    if query.distinct or where.negated or where.connector != AND or len(where.children) != 2:
        return False
    found = {}
    for lookup in where.children:
        if not isinstance(lookup, Exact) or not isinstance(lookup.lhs, Col):
            return False
        column = lookup.lhs
        if column.alias != query.base_table or column.target.model is not queryset.model:
            return False
        found[column.target.attname] = lookup.rhs
    return (
        found.keys() == {"client_id", "active"}
        and type(found["client_id"]) is int
        and found["client_id"] == client_id
        and found["active"] is True
    )


def counter_sql(queryset: models.QuerySet, *, client_id: int) -> tuple[str, tuple] | None:
    """SQL giving the exact number of rows of ``queryset`` from the counter, and its parameters.

    None when the list is filtered (or its table has no counter): then only counting tells.
    The expression can stand alone or be selected with a page's rows (the same snapshot).
    """
    table = queryset.model._meta.db_table
    if table not in COUNTED_TABLES or not _plain_list(queryset, client_id):
        return None
    return COUNTER_SQL, (table, client_id)


COUNTER_SQL = (
    "coalesce((SELECT rows FROM tenant_row_counts WHERE table_name = %s AND client_id = %s), 0)"
)


def tenant_rows_count(queryset: models.QuerySet, *, client_id: int) -> int:
    """The exact number of rows of ``queryset`` (a list of one client's rows)."""
    counter = counter_sql(queryset, client_id=client_id)
    if counter is None:
        return queryset.count()
    # Plain SQL: compiling an ORM query would cost more than running this one.
    # Routed afresh (a standby lost since the page was read is not asked again).
    sql, params = counter
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]
