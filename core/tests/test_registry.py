"""The lists core derives from the domain's declarations agree with the database's catalog."""

from __future__ import annotations

import pytest
from django.db import connection

from core.registry import counted_tables, tenant_models, vector_tables

pytestmark = pytest.mark.django_db


def catalog(sql: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {row[0] for row in cursor.fetchall()}


def test_counted_tables_are_those_with_count_triggers_in_the_database():
    with_triggers = catalog(
        "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
        "WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger_row_counts_%'"
    )
    assert (
        with_triggers == set(counted_tables()) == {"issues", "pull_requests", "projects", "users"}
    )


def test_every_tenant_table_has_the_row_stamp_trigger_in_the_database():
    stamped = catalog(
        "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
        "WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger_row_stamps_%'"
    )
    assert stamped == {model._meta.db_table for model in tenant_models()}
    assert len(stamped) == 7


def test_a_tenant_model_without_the_stamp_trigger_fails_the_start_up_check(monkeypatch):
    from core.checks import tenant_models_stamp_their_writes
    from issues.models import Issue

    assert tenant_models_stamp_their_writes(None) == []
    monkeypatch.setattr(Issue._meta, "triggers", Issue._meta.triggers[:-1])
    assert [e.id for e in tenant_models_stamp_their_writes(None)] == ["core.E004"]


def test_vector_tables_are_the_tenant_tables_with_a_vector_column():
    tenant_tables = sorted(model._meta.db_table for model in tenant_models())
    with_vectors = catalog(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_type t ON t.oid = a.atttypid "
        f"WHERE t.typname = 'vector' AND c.relname = ANY(ARRAY{tenant_tables}::text[]) "
        "AND a.attnum > 0 AND NOT a.attisdropped"
    )
    assert with_vectors == set(vector_tables()) == {"issues", "pull_requests", "projects", "users"}


def test_every_counted_table_keeps_its_count_through_every_kind_of_write(tenant_a):
    """A counted model's triggers are live: insert, soft delete, revive, move, delete, truncate."""
    from issues.models import Issue
    from issues.tests.factories import IssueFactory

    def counted() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(rows), 0) FROM tenant_row_counts "
                "WHERE table_name = 'issues' AND client_id = %s",
                [tenant_a.pk],
            )
            return cursor.fetchone()[0]

    issues = IssueFactory.create_batch(3, client=tenant_a)
    assert counted() == 3
    Issue.objects.filter(pk=issues[0].pk).update(active=False)
    assert counted() == 2
    Issue.objects.filter(pk=issues[0].pk).update(active=True)
    assert counted() == 3
    Issue.objects.filter(pk=issues[1].pk).delete()
    assert counted() == 2
