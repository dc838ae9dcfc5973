"""Pipelines may write the tables with plain SQL: every column the API fills has a database
default, the row trigger stamps each write, and the API reads such rows as it reads its own."""

from __future__ import annotations

import time

import pytest
from django.db import connections

from core.models import TenantRowCount
from core.testing import wait_for_standby

pytestmark = pytest.mark.django_db

# table, the columns a plain INSERT must give (besides client_id), the API path.
DIRECT_INSERTS = [
    ("issues", {"key": "RAW-1", "summary": "Inserted by SQL"}, "/api/issues"),
    ("projects", {"key": "RAW", "name": "Raw project"}, "/api/projects"),
    (
        "pull_requests",
        {"repository": "org/raw", "number": 7, "name": "Raw PR"},
        "/api/pull-requests",
    ),
    ("users", {"email": "raw@example.com"}, "/api/users"),
    (
        "ml_prediction_log",
        {"model_name": "risk", "prediction_value": 0.25},
        "/api/ml/prediction-logs",
    ),
    (
        "ai_learning_memory",
        {"error_type": "join", "user_intent": "i", "failed_query": "q", "specific_issue": "s"},
        "/api/ml/learning-memory",
    ),
    ("ml_anomaly_alerts", {"model_name": "risk", "severity": "high"}, "/api/ml/anomaly-alerts"),
]

# What the API shows for the columns the INSERT left to the database.
DEFAULTS = {
    "issues": {"labels": [], "description": None, "project_id": None},
    "projects": {"project_type": "", "external_id": None},
    "pull_requests": {"status": "open"},
    "users": {"role": "user", "first_name": "", "last_name": "", "preferences": {}},
    "ml_prediction_log": {"input_features": {}, "is_anomaly": False, "severity": "normal"},
    "ai_learning_memory": {"learning_context": {}, "confidence": 0.5},
    "ml_anomaly_alerts": {"alert_data": {}, "acknowledged": False},
}


def raw_insert(table: str, client_id: int, columns: dict) -> int:
    names = ["client_id", *columns]
    placeholders = ", ".join(["%s"] * len(names))
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders}) RETURNING id",
            [client_id, *columns.values()],
        )
        return cursor.fetchone()[0]


def stamps(table: str, pk: int) -> tuple:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"SELECT change_xid, last_updated_at, created_at FROM {table} WHERE id = %s", [pk]
        )
        return cursor.fetchone()


@pytest.mark.parametrize(("table", "columns", "path"), DIRECT_INSERTS, ids=lambda v: str(v)[:20])
def test_plain_sql_insert_is_read_through_the_api(api, admin_a, tenant_a, table, columns, path):
    pk = raw_insert(table, tenant_a.pk, columns)
    body = api(admin_a).get(f"{path}/{pk}").json()
    assert body["id"] == pk and body["client_id"] == tenant_a.pk and body["active"] is True
    assert body["created_at"] and body["created_at"] == body["last_updated_at"]
    for name, value in {**columns, **DEFAULTS[table]}.items():
        assert body[name] == value, name
    change_xid, _, _ = stamps(table, pk)
    assert change_xid > 0  # stamped by the trigger
    listed = api(admin_a).get(path, {"limit": 100}).json()
    assert pk in [row["id"] for row in next(v for v in listed.values() if isinstance(v, list))]


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize(("table", "columns", "path"), DIRECT_INSERTS, ids=lambda v: str(v)[:20])
def test_plain_sql_update_moves_last_updated_at_and_the_stamp(
    api, admin_a, tenant_a, table, columns, path
):
    pk = raw_insert(table, tenant_a.pk, columns)
    before_xid, before_time, created = stamps(table, pk)
    time.sleep(0.01)
    first = next(iter(columns))
    with connections["default"].cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {first} = {first} WHERE id = %s", [pk])
    after_xid, after_time, created_again = stamps(table, pk)
    assert after_xid > before_xid and after_time > before_time and created_again == created
    wait_for_standby()
    body = api(admin_a).get(f"{path}/{pk}").json()
    assert body["last_updated_at"] == after_time.isoformat().replace("+00:00", "Z")
    # An UPDATE that sets last_updated_at itself (a backfill) keeps its value.
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_updated_at = '2020-01-02T03:04:05Z' WHERE id = %s", [pk]
        )
    wait_for_standby()
    assert api(admin_a).get(f"{path}/{pk}").json()["last_updated_at"] == "2020-01-02T03:04:05Z"


def test_plain_sql_writes_keep_the_counts_exact(api, admin_a, tenant_a):
    for n in range(3):
        raw_insert("issues", tenant_a.pk, {"key": f"RAW-{n}", "summary": "s"})
    with connections["default"].cursor() as cursor:
        cursor.execute("UPDATE issues SET active = false WHERE key = 'RAW-0'")
    counted = TenantRowCount.objects.get(table_name="issues", client_id=tenant_a.pk).rows
    listed = api(admin_a).get("/api/issues").json()
    assert counted == listed["total_count"] == listed["count"] == 2
