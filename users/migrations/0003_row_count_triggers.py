"""The per-client row-count triggers the model declares (core.counts), replacing core/0002's."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

from core.counts import replace_legacy_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_email_unique_per_client"),
        ("core", "0002_tenant_row_counts"),
    ]

    operations = [
        replace_legacy_triggers("users"),
        pgtrigger.migrations.AddTrigger(
            model_name="user",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, count(*) FROM new_rows WHERE active GROUP BY client_id\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="b0bb194aa557b0f9aa668d57e9c790196c1f24be",
                    level="STATEMENT",
                    operation="INSERT",
                    pgid="pgtrigger_row_counts_insert_35a34",
                    referencing="REFERENCING NEW TABLE AS new_rows ",
                    table="users",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="user",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, sum(delta) FROM (\n        SELECT client_id, 1 AS delta FROM new_rows WHERE active\n        UNION ALL\n        SELECT client_id, -1 FROM old_rows WHERE active\n    ) changes\n    GROUP BY client_id HAVING sum(delta) <> 0\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="d3bc51ae2e469ee03d14c0cdb03fe753c1c001aa",
                    level="STATEMENT",
                    operation="UPDATE",
                    pgid="pgtrigger_row_counts_update_fc9ca",
                    referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                    table="users",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="user",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    UPDATE tenant_row_counts AS c SET rows = c.rows - d.n\n    FROM (SELECT client_id, count(*) AS n FROM old_rows WHERE active GROUP BY client_id) d\n    WHERE c.table_name = TG_TABLE_NAME AND c.client_id = d.client_id;\n    RETURN NULL;\n",
                    hash="3cc4da0d73d19c45efce75a874b94d73a5b78c91",
                    level="STATEMENT",
                    operation="DELETE",
                    pgid="pgtrigger_row_counts_delete_aaa6f",
                    referencing="REFERENCING OLD TABLE AS old_rows ",
                    table="users",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="user",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    DELETE FROM tenant_row_counts WHERE table_name = TG_TABLE_NAME;\n    RETURN NULL;\n",
                    hash="5139ef017210d20b70cf852d2dc10d7983abbf2f",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_row_counts_truncate_2e087",
                    table="users",
                    when="AFTER",
                ),
            ),
        ),
    ]
