"""The per-client row-count triggers the model declares (core.counts), replacing core/0002's."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

from core.counts import replace_legacy_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
        ("core", "0002_tenant_row_counts"),
    ]

    operations = [
        replace_legacy_triggers("projects"),
        pgtrigger.migrations.AddTrigger(
            model_name="project",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, count(*) FROM new_rows WHERE active GROUP BY client_id\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="f0124fdc9f3326c27209e41e94a4b4528b3d6d80",
                    level="STATEMENT",
                    operation="INSERT",
                    pgid="pgtrigger_row_counts_insert_eff0e",
                    referencing="REFERENCING NEW TABLE AS new_rows ",
                    table="projects",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="project",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    INSERT INTO tenant_row_counts AS c (table_name, client_id, rows)\n    SELECT TG_TABLE_NAME, client_id, sum(delta) FROM (\n        SELECT client_id, 1 AS delta FROM new_rows WHERE active\n        UNION ALL\n        SELECT client_id, -1 FROM old_rows WHERE active\n    ) changes\n    GROUP BY client_id HAVING sum(delta) <> 0\n    ON CONFLICT (table_name, client_id) DO UPDATE SET rows = c.rows + EXCLUDED.rows;\n    RETURN NULL;\n",
                    hash="0abbeebe8d937acdcbfa87d2317619ffd1bd5454",
                    level="STATEMENT",
                    operation="UPDATE",
                    pgid="pgtrigger_row_counts_update_fb453",
                    referencing="REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ",
                    table="projects",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="project",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    UPDATE tenant_row_counts AS c SET rows = c.rows - d.n\n    FROM (SELECT client_id, count(*) AS n FROM old_rows WHERE active GROUP BY client_id) d\n    WHERE c.table_name = TG_TABLE_NAME AND c.client_id = d.client_id;\n    RETURN NULL;\n",
                    hash="7e3f565869e448935ca262dc9740eb2498bdf049",
                    level="STATEMENT",
                    operation="DELETE",
                    pgid="pgtrigger_row_counts_delete_a49ea",
                    referencing="REFERENCING OLD TABLE AS old_rows ",
                    table="projects",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="project",
            trigger=pgtrigger.compiler.Trigger(
                name="row_counts_truncate",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n    DELETE FROM tenant_row_counts WHERE table_name = TG_TABLE_NAME;\n    RETURN NULL;\n",
                    hash="630596298ccea9a4a76366367cb08ba2edb8eb45",
                    level="STATEMENT",
                    operation="TRUNCATE",
                    pgid="pgtrigger_row_counts_truncate_f3bef",
                    table="projects",
                    when="AFTER",
                ),
            ),
        ),
    ]
