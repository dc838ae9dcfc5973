"""Per-client active row counts, kept exact by statement-level triggers (see core/counts.py).

The triggers are declared by the counted models themselves and installed by their apps'
migrations; databases migrated before that got them (and a shared function) from this migration,
which the apps' migrations replace.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

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
    ]
