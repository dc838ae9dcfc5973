# Indexes on tables that may be large are built with CREATE INDEX CONCURRENTLY: the table keeps
# taking writes meanwhile. Safe to run again (an index already there is kept: databases migrated
# before this migration built them with their tables); see core/db/migration_operations.py.

import django.db.models.functions.text
import pgvector.django.indexes
from django.db import migrations, models

from core.db.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("users", "0005_tokens_over_http"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=pgvector.django.indexes.HnswIndex(
                ef_construction=64,
                fields=["embedding"],
                m=16,
                name="users_embedding_hnsw",
                opclasses=["vector_cosine_ops"],
            ),
        ),
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(fields=["client", "change_xid", "id"], name="users_sync_idx"),
        ),
        AddIndexConcurrently(
            model_name="apitoken",
            index=models.Index(fields=["user", "created_at"], name="api_tokens_user_idx"),
        ),
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(
                django.db.models.functions.text.Upper("email"), name="users_login_email_idx"
            ),
        ),
    ]
