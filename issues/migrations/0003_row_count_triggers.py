"""The per-client row-count triggers the model declares (core.counts), replacing core/0002's."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

from core.counts import replace_legacy_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0002_initial"),
        ("core", "0002_tenant_row_counts"),
    ]

    operations = [
        replace_legacy_triggers("issues"),
        pgtrigger.migrations.AddTrigger(
            model_name="issue",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, count(*) FROM new_rows WHERE active GROUP BY client_id\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="17f77b3229da929fe5371f86a52a08e7839a388e",
                    level="STATEMENT",
                    operation="INSERT",
                    pgid="pgtrigger_row_counts_insert_5ef42",
                    referencing="REFERENCING NEW TABLE AS new_rows ",
                    table="issues",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="issue",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, sum(delta) FROM (\n        SELECT client_id, 1 AS delta FROM new_rows WHERE active\n        UNION ALL\n        SELECT client_id, -1 FROM old_rows WHERE active\n    ) changes\n    GROUP BY client_id HAVING sum(delta) <> 0\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="df91bdab42910e4d52cb8400ef9d4f8937d4691f",
                    level="STATEMENT",
                    operation="UPDATE",
                    pgid="pgtrigger_row_counts_update_0903f",
                    referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                    table="issues",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="issue",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    UPDATE tenant_row_counts AS c SET rows = c.rows - d.n\n    FROM (SELECT client_id, count(*) AS n FROM old_rows WHERE active GROUP BY client_id) d\n    WHERE c.table_name = TG_TABLE_NAME AND c.client_id = d.client_id;\n    RETURN NULL;\n",
                    hash="579406c62ad75b7d0966196e4213efb37ab63da0",
                    level="STATEMENT",
                    operation="DELETE",
                    pgid="pgtrigger_row_counts_delete_f1544",
                    referencing="REFERENCING OLD TABLE AS old_rows ",
                    table="issues",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="issue",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    DELETE FROM tenant_row_counts WHERE table_name = TG_TABLE_NAME;\n    RETURN NULL;\n",
                    hash="5bce1aab460422b2c1dfeaf466af1b68b954c657",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_row_counts_truncate_8279f",
                    table="issues",
                    when="AFTER",
                ),
            ),
        ),
    ]
