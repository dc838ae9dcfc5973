# Indexes on tables that may be large are built with CREATE INDEX CONCURRENTLY: the table keeps
# taking writes meanwhile. Safe to run again (an index already there is kept: databases migrated
# before this migration built them with their tables); see core/db/migration_operations.py.


from django.db import migrations, models

from core.db.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("mlmonitoring", "0002_direct_writers_and_change_stamps"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="anomalyalert",
            index=models.Index(
                fields=["client", "change_xid", "id"], name="ml_anomaly_alerts_sync_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="learningmemory",
            index=models.Index(
                fields=["client", "change_xid", "id"], name="ai_learning_memory_sync_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="predictionlog",
            index=models.Index(
                fields=["client", "change_xid", "id"], name="ml_prediction_log_sync_idx"
            ),
        ),
    ]
