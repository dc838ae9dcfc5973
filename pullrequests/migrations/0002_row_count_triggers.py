"""The per-client row-count triggers the model declares (core.counts), replacing core/0002's."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

from core.counts import replace_legacy_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("pullrequests", "0001_initial"),
        ("core", "0002_tenant_row_counts"),
    ]

    operations = [
        replace_legacy_triggers("pull_requests"),
        pgtrigger.migrations.AddTrigger(
            model_name="pullrequest",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, count(*) FROM new_rows WHERE active GROUP BY client_id\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="67c4fa5b4893d99d30c2f70d9efc9ca12ffc025a",
                    level="STATEMENT",
                    operation="INSERT",
                    pgid="pgtrigger_row_counts_insert_10271",
                    referencing="REFERENCING NEW TABLE AS new_rows ",
                    table="pull_requests",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pullrequest",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, sum(delta) FROM (\n        SELECT client_id, 1 AS delta FROM new_rows WHERE active\n        UNION ALL\n        SELECT client_id, -1 FROM old_rows WHERE active\n    ) changes\n    GROUP BY client_id HAVING sum(delta) <> 0\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="80ecc88792dc8617e82bacbfe3062de3b2a3adb5",
                    level="STATEMENT",
                    operation="UPDATE",
                    pgid="pgtrigger_row_counts_update_fe3f3",
                    referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                    table="pull_requests",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pullrequest",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    UPDATE tenant_row_counts AS c SET rows = c.rows - d.n\n    FROM (SELECT client_id, count(*) AS n FROM old_rows WHERE active GROUP BY client_id) d\n    WHERE c.table_name = TG_TABLE_NAME AND c.client_id = d.client_id;\n    RETURN NULL;\n",
                    hash="fba6561cc9c4db2251eb76f8fd07d66509c36fb1",
                    level="STATEMENT",
                    operation="DELETE",
                    pgid="pgtrigger_row_counts_delete_3e4aa",
                    referencing="REFERENCING OLD TABLE AS old_rows ",
                    table="pull_requests",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="pullrequest",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    DELETE FROM tenant_row_counts WHERE table_name = TG_TABLE_NAME;\n    RETURN NULL;\n",
                    hash="04e025e1b2d49c48ef91612db65a816accac6a37",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_row_counts_truncate_0c62f",
                    table="pull_requests",
                    when="AFTER",
                ),
            ),
        ),
    ]
