"""vector_columns_accessible() against the real primary and standby."""

from __future__ import annotations

import pytest
from django.db import connections

from core.db.state import current, request_scope
from core.db.vectors import vector_column_access, vector_columns_accessible
from core.registry import vector_tables
from core.testing import server_stopped, wait_for_standby

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def plain_table():
    """A table whose ``embedding`` column is not a vector (the check must say no)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE vectors_probe_plain (id int, embedding text)")
    wait_for_standby()
    yield "vectors_probe_plain"
    with connections["default"].cursor() as cursor:
        cursor.execute("DROP TABLE vectors_probe_plain")


def vector_tables_on_primary() -> set[str]:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'embedding' AND udt_name = 'vector' AND table_name = ANY(%s)",
            [list(vector_tables())],
        )
        return {row[0] for row in cursor.fetchall()}


def test_an_existing_vector_column_is_accessible_through_the_ml_standby():
    with request_scope() as state:
        assert vector_column_access(["users"]) == {"users": True}
        assert state.read_aliases == ["ml"]


def test_missing_tables_and_non_vector_columns_are_not_accessible(plain_table):
    access = vector_column_access(["users", "vectors_probe_missing", plain_table])
    assert access == {"users": True, "vectors_probe_missing": False, plain_table: False}
    assert vector_columns_accessible(["users"]) is True
    assert vector_columns_accessible(["users", "vectors_probe_missing"]) is False


def test_default_tables_are_accessible_exactly_when_they_all_have_a_vector_column():
    # issues, pull_requests and projects arrive with their apps: the answer follows the schema.
    assert vector_columns_accessible() is (vector_tables_on_primary() == set(vector_tables()))


def test_with_the_standby_down_the_check_reads_the_tuned_primary():
    with server_stopped(standby=True):
        assert vector_columns_accessible(["users"]) is True
        assert current().read_aliases == ["ml_primary"]
