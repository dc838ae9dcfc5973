"""Per-client active row counts, kept exact by statement-level triggers (see core/counts.py)."""

from django.db import migrations, models

TABLES = ("issues", "pull_requests", "projects", "users")

FUNCTION = """
CREATE FUNCTION tenant_row_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""

TRIGGERS = """
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
INSERT INTO tenant_row_counts (table_name, client_id, rows)
    SELECT '{table}', client_id, count(*) FROM {table} WHERE active GROUP BY client_id;
"""

DROP_TRIGGERS = """
DROP TRIGGER {table}_counts_insert ON {table};
DROP TRIGGER {table}_counts_update ON {table};
DROP TRIGGER {table}_counts_delete ON {table};
DROP TRIGGER {table}_counts_truncate ON {table};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("issues", "0002_initial"),
        ("projects", "0001_initial"),
        ("pullrequests", "0001_initial"),
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantRowCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table_name", models.CharField(max_length=63)),
                ("client_id", models.BigIntegerField()),
                ("rows", models.BigIntegerField(default=0)),
            ],
            options={"db_table": "tenant_row_counts"},
        ),
        migrations.AddConstraint(
            model_name="tenantrowcount",
            constraint=models.UniqueConstraint(
                fields=("table_name", "client_id"), name="tenant_row_counts_unique"
            ),
        ),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION tenant_row_counts_apply();"),
        *[
            migrations.RunSQL(TRIGGERS.format(table=table), DROP_TRIGGERS.format(table=table))
            for table in TABLES
        ],
    ]
