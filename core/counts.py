"""Exact list totals without counting: per-client active row counts kept by the database.

``COUNT(*)`` over a big client's active rows reads its whole index (tens of milliseconds at
100,000 rows, growing with the client), on every list request. Triggers keep
``tenant_row_counts`` exact instead. A model declares them with itself
(``Meta.triggers = count_triggers()``, installed by its app's migrations through django-pgtrigger),
and ``core.registry.counted_models()`` finds the models that did. They are statement-level, with
transition tables,
so one INSERT/UPDATE/DELETE/COPY of many rows updates a client's count once, in the same
transaction; soft deletes (``active`` false) and moves between clients are counted; TRUNCATE
clears the table's counts. The trade-off: concurrent writers of one client's rows of one table
queue on that count row until each commits.

Only the plain list (the client's active rows, no filter) reads the counter; a filtered list
still counts its rows, so ``total_count`` stays exact either way. The list fast path selects the
counter with the page's rows (``counter_sql()``): one query, one snapshot.
"""

from __future__ import annotations

import pgtrigger
from django.db import connections, models

from core.db.query_shape import plain_client_rows
from core.registry import counted_tables

COUNT_TRIGGER_PREFIX = "row_counts_"

# Each body sees its statement's rows as transition tables (new_rows, old_rows); one statement
# changes a client's count once, however many rows it touched.
_ADD_NEW = """
    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)
    SELECT TG_TABLE_NAME, client_id, count(*) FROM new_rows WHERE active GROUP BY client_id
    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;
    RETURN NULL;
"""
_REMOVE_OLD = """
    UPDATE tenant_row_counts AS c SET rows = c.rows - d.n
    FROM (SELECT client_id, count(*) AS n FROM old_rows WHERE active GROUP BY client_id) d
    WHERE c.table_name = TG_TABLE_NAME AND c.client_id = d.client_id;
    RETURN NULL;
"""
_MOVE = """
    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)
    SELECT TG_TABLE_NAME, client_id, sum(delta) FROM (
        SELECT client_id, 1 AS delta FROM new_rows WHERE active
        UNION ALL
        SELECT client_id, -1 FROM old_rows WHERE active
    ) changes
    GROUP BY client_id HAVING sum(delta) <> 0
    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;
    RETURN NULL;
"""
_CLEAR = """
    DELETE FROM tenant_row_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
"""


def count_triggers() -> list[pgtrigger.Trigger]:
    """The triggers that keep a tenant model's per-client active row count, for its
    ``Meta.triggers`` (the table needs ``client_id`` and ``active``)."""

    def trigger(operation, func: str, **referencing: str) -> pgtrigger.Trigger:
        return pgtrigger.Trigger(
            name=f"{COUNT_TRIGGER_PREFIX}{str(operation).lower()}",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=operation,
            referencing=pgtrigger.Referencing(**referencing) if referencing else None,
            func=func,
        )

    return [
        trigger(pgtrigger.Insert, _ADD_NEW, new="new_rows"),
        trigger(pgtrigger.Update, _MOVE, old="old_rows", new="new_rows"),
        trigger(pgtrigger.Delete, _REMOVE_OLD, old="old_rows"),
        trigger(pgtrigger.Truncate, _CLEAR),
    ]


# Databases migrated before the models declared their triggers have core/0002's: four triggers
# per table and one shared function. Each app's migration that installs the declared triggers
# runs these first, in the same transaction (DROP TRIGGER locks the table, so no write is counted
# twice or missed in between), recounts the table, and drops the shared function once unused.
_REPLACE_LEGACY_SQL = """
DROP TRIGGER IF EXISTS {table}_counts_insert ON {table};
DROP TRIGGER IF EXISTS {table}_counts_update ON {table};
DROP TRIGGER IF EXISTS {table}_counts_delete ON {table};
DROP TRIGGER IF EXISTS {table}_counts_truncate ON {table};
DELETE FROM tenant_row_counts WHERE table_name = '{table}';
INSERT INTO tenant_row_counts (table_name, client_id, rows)
    SELECT '{table}', client_id, count(*) FROM {table} WHERE active GROUP BY client_id;
DO $$ BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE p.proname = 'tenant_row_counts_apply'
    ) THEN
        DROP FUNCTION IF EXISTS tenant_row_counts_apply();
    END IF;
END $$;
"""


# Migrating back (to the code before the models declared their triggers): core/0002's function
# and triggers again, the table recounted, once the declared triggers are gone.
_RESTORE_LEGACY_SQL = """
CREATE OR REPLACE FUNCTION tenant_row_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tenant_row_counts WHERE table_name = TG_TABLE_NAME;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)
        SELECT TG_TABLE_NAME, client_id, count(*) FROM new_rows WHERE active GROUP BY client_id
        ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tenant_row_counts AS c SET rows = c.rows - d.n
        FROM (SELECT client_id, count(*) AS n FROM old_rows WHERE active GROUP BY client_id) d
        WHERE c.table_name = TG_TABLE_NAME AND c.client_id = d.client_id;
    ELSE
        INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)
        SELECT TG_TABLE_NAME, client_id, sum(delta) FROM (
            SELECT client_id, 1 AS delta FROM new_rows WHERE active
            UNION ALL
            SELECT client_id, -1 FROM old_rows WHERE active
        ) changes
        GROUP BY client_id HAVING sum(delta) <> 0
        ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER {table}_counts_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_row_counts_apply();
CREATE TRIGGER {table}_counts_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_row_counts_apply();
CREATE TRIGGER {table}_counts_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_row_counts_apply();
CREATE TRIGGER {table}_counts_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_row_counts_apply();
DELETE FROM tenant_row_counts WHERE table_name = '{table}';
INSERT INTO tenant_row_counts (table_name, client_id, rows)
    SELECT '{table}', client_id, count(*) FROM {table} WHERE active GROUP BY client_id;
"""


def replace_legacy_triggers(table: str):
    """The migration operation that comes before a table's AddTrigger operations (and, migrating
    back, restores what it replaced)."""
    from django.db import migrations

    return migrations.RunSQL(
        _REPLACE_LEGACY_SQL.format(table=table), _RESTORE_LEGACY_SQL.format(table=table)
    )


def counter_sql(queryset: models.QuerySet, *, client_id: int) -> tuple[str, tuple] | None:
    """SQL giving the exact number of rows of ``queryset`` from the counter, and its parameters.

    None when the list is filtered (or its table has no counter): then only counting tells.
    The expression can stand alone or be selected with a page's rows (the same snapshot).
    """
    table = queryset.model._meta.db_table
    if table not in counted_tables() or not plain_client_rows(queryset, client_id):
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
