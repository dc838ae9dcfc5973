"""The health endpoints with the primary and the standby both up."""

from __future__ import annotations

import pytest
from django.db import connections

from core.db import replicas
from core.fields import EMBEDDING_DIMENSIONS
from core.models import Client
from core.registry import vector_tables
from core.testing import wait_for_standby
from health import checks, embedding_counts
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def primary_scalar(sql: str, params: list | None = None):
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def has_vector_column(table: str) -> bool:
    return primary_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = %s "
        "AND column_name = 'embedding' AND udt_name = 'vector')",
        [table],
    )


def make_users(*, with_embedding: int, without: int = 0, prefix: str = "user") -> None:
    client, _ = Client.objects.get_or_create(name="health-users")
    for number in range(with_embedding + without):
        User.objects.create_user(
            email=f"{prefix}{number}@example.com",
            client=client,
            embedding=[0.5] * EMBEDDING_DIMENSIONS if number < with_embedding else None,
        )
    wait_for_standby()


def test_liveness_touches_no_database(client):
    connections.close_all()
    response = client.get("/health")
    assert all(connections[alias].connection is None for alias in connections)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("path", ["/health/ready", "/health/ready/", "/health/database/"])
def test_paths_answer_with_or_without_a_trailing_slash(client, path):
    assert client.get(path).status_code == 200


def test_probes_accept_only_get_and_head(client):
    assert client.head("/health/ready").status_code == 200
    assert client.post("/health/ready").status_code == 405
    assert client.delete("/health/database").status_code == 405


def test_ready_when_both_servers_answer(client):
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["ready"] is True
    assert body["reads_from"] == "replica"
    assert body["primary"] == {
        "alias": "default",
        "status": "ok",
        "reachable": True,
        "writable": True,
    }
    assert body["replica"]["status"] == "ok"
    assert body["replica"]["standbys"][0]["alias"] == "replica"
    assert 0 <= body["replica"]["lag_seconds"] <= 1
    assert body["reasons"] == []


def test_database_report_has_the_specification_shape(client):
    response = client.get("/health/database")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["database_connection"] == "ok"
    assert body["served_by"] == "replica"
    assert set(body["ml_tables"]) == {
        "ai_learning_memory",
        "ml_prediction_log",
        "ml_anomaly_alerts",
    }
    for table, state in body["ml_tables"].items():
        exists = primary_scalar("SELECT to_regclass(%s) IS NOT NULL", [table])
        assert state == ("available" if exists else "not_available")
    assert set(body["vector_columns"]) == {
        "issues_with_embeddings",
        "pull_requests_with_embeddings",
        "projects_with_embeddings",
        "users_with_embeddings",
    }
    for table in vector_tables():
        value = body["vector_columns"][f"{table}_with_embeddings"]
        if has_vector_column(table):
            assert isinstance(value, int)
        else:
            assert value == "column_not_available"
    assert body["primary"]["reachable"] is True
    assert body["replica"]["reachable"] is True
    assert body["timestamp"].endswith("+00:00")
    assert "error" not in body


def test_a_missing_ml_table_is_not_available_and_a_present_one_is(client, make_table, monkeypatch):
    present = make_table("health_probe_ml_table", "id int")
    monkeypatch.setattr(checks, "ML_TABLES", (present, "health_probe_missing_table"))
    body = client.get("/health/database").json()
    assert body["ml_tables"] == {
        "health_probe_ml_table": "available",
        "health_probe_missing_table": "not_available",
    }
    assert body["status"] == "healthy"


def test_embedding_counts_are_exact_on_small_tables(client, make_table, monkeypatch):
    plain = make_table("health_probe_plain", "id int")
    monkeypatch.setattr(checks, "vector_tables", lambda: ("users", plain, "health_probe_missing"))
    make_users(with_embedding=2, without=1)
    body = client.get("/health/database").json()
    assert body["vector_columns"] == {
        "users_with_embeddings": 2,
        "health_probe_plain_with_embeddings": "column_not_available",
        "health_probe_missing_with_embeddings": "column_not_available",
    }
    source = body["vector_columns_source"]
    assert source["methods"] == {"users_with_embeddings": "exact"}
    assert source["from_cache"] is False
    assert source["cached_for_seconds"] == embedding_counts.CACHE_SECONDS


def test_embedding_counts_are_cached_between_probes(client):
    make_users(with_embedding=1)
    first = client.get("/health/database").json()
    make_users(with_embedding=1, prefix="late")
    second = client.get("/health/database").json()
    assert first["vector_columns"]["users_with_embeddings"] == 1
    assert second["vector_columns"]["users_with_embeddings"] == 1
    assert second["vector_columns_source"]["from_cache"] is True
    assert (
        second["vector_columns_source"]["counted_at"]
        == first["vector_columns_source"]["counted_at"]
    )
    embedding_counts.cache.delete(embedding_counts.CACHE_KEY)
    third = client.get("/health/database").json()
    assert third["vector_columns"]["users_with_embeddings"] == 2
    assert third["vector_columns_source"]["from_cache"] is False


def test_big_tables_are_estimated_from_planner_statistics(client, monkeypatch):
    # Every table counts as big here: no table is scanned, statistics answer.
    monkeypatch.setattr(embedding_counts, "EXACT_COUNT_MAX_BYTES", -1)
    make_users(with_embedding=3, without=1)
    body = client.get("/health/database").json()
    assert body["vector_columns"]["users_with_embeddings"] is None
    assert body["vector_columns_source"]["methods"]["users_with_embeddings"] == (
        "no_statistics_yet"
    )
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE users")
    wait_for_standby()
    embedding_counts.cache.delete(embedding_counts.CACHE_KEY)
    body = client.get("/health/database").json()
    assert body["vector_columns"]["users_with_embeddings"] == 3
    assert body["vector_columns_source"]["methods"]["users_with_embeddings"] == "estimate"


def test_ml_report_has_the_specification_shape(client):
    response = client.get("/health/ml")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["served_by"] == "ml"
    assert body["replica_connection"] == "ok"
    assert 0 <= body["replica_lag_seconds"] <= 1
    vector_version = primary_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    assert body["pgvector"] == {"available": True, "version": vector_version}
    pgml_on_server = primary_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgml')"
    )
    if not pgml_on_server:
        assert body["postgresml"] == {
            "available": False,
            "reason": "extension not installed on this server",
        }
    all_vector_columns = all(has_vector_column(table) for table in vector_tables())
    assert body["vector_columns_accessible"] is all_vector_columns
    assert body["reasons"] == []


def test_ml_is_degraded_without_pgvector(client, monkeypatch):
    # As if the extension had not been created: pg_extension has no row for it.
    monkeypatch.setattr(
        checks, "EXTENSIONS_SQL", checks.EXTENSIONS_SQL.replace("'vector'", "'vector_absent'")
    )
    response = client.get("/health/ml")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["pgvector"]["available"] is False
    assert body["reasons"] == ["pgvector not available"]


def test_a_failing_report_query_is_summarised_without_its_message(client, monkeypatch):
    monkeypatch.setattr(checks, "ML_TABLES_SQL", "SELECT no_such_column FROM unnest(%s::text[])")
    response = client.get("/health/database")
    body = response.json()
    assert response.status_code == 503
    assert body["reasons"] == ["no server answered reads: query failed (UndefinedColumn)"]
    assert "no_such_column" not in response.content.decode()
    # A query error is not an outage: the standby is still used for reads.
    assert replicas.is_down("replica") is False


class UnreachableCache:
    """A cache backend whose server is down."""

    def get(self, *args, **kwargs):
        raise ConnectionError("cache down")

    set = get


def test_a_cache_outage_does_not_break_the_database_report(client, monkeypatch):
    monkeypatch.setattr(embedding_counts, "cache", UnreachableCache())
    response = client.get("/health/database")
    assert response.status_code == 200
    assert response.json()["vector_columns_source"]["from_cache"] is False
