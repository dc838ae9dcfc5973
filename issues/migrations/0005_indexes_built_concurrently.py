# Indexes on tables that may be large are built with CREATE INDEX CONCURRENTLY: the table keeps
# taking writes meanwhile. Safe to run again (an index already there is kept: databases migrated
# before this migration built them with their tables); see core/db/migration_operations.py.

import pgvector.django.indexes
from django.db import migrations, models

from core.db.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("issues", "0004_direct_writers_and_change_stamps"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="issue",
            index=pgvector.django.indexes.HnswIndex(
                ef_construction=64,
                fields=["embedding"],
                m=16,
                name="issues_embedding_hnsw",
                opclasses=["vector_cosine_ops"],
            ),
        ),
        AddIndexConcurrently(
            model_name="issue",
            index=models.Index(fields=["client", "change_xid", "id"], name="issues_sync_idx"),
        ),
    ]
