"""Which server answers the ML endpoints: the ``ml`` session on the standby, not the primary."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from core.testing import standby_delay, wait_for_standby
from mlmonitoring.tests.factories import (
    AnomalyAlertFactory,
    LearningMemoryFactory,
    PredictionLogFactory,
)

# Committed rows, and every alias open: the standby must replay the rows to serve them.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

CASES = [
    ("/api/ml/learning-memory", "learning_memories", "ai_learning_memory", LearningMemoryFactory),
    ("/api/ml/prediction-logs", "prediction_logs", "ml_prediction_log", PredictionLogFactory),
    ("/api/ml/anomaly-alerts", "anomaly_alerts", "ml_anomaly_alerts", AnomalyAlertFactory),
]


def ml_session_settings() -> tuple:
    with connections["ml"].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), current_setting('work_mem'), "
            "current_setting('default_transaction_read_only'), "
            "current_setting('random_page_cost'), pg_is_in_recovery()"
        )
        return cursor.fetchone()


@pytest.mark.parametrize(("path", "key", "table", "factory"), CASES)
def test_list_and_detail_are_answered_by_the_ml_session(api, admin_a, tenant_a, path, key, table, factory):  # fmt: skip
    rows = [factory(client=tenant_a) for _ in range(2)]
    client = api(admin_a)
    wait_for_standby()
    with (
        CaptureQueriesContext(connections["ml"]) as on_ml,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        listing = client.get(path)
        detail = client.get(f"{path}/{rows[0].pk}")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()[key]] == [rows[1].pk, rows[0].pk]
    assert detail.json()["id"] == rows[0].pk
    ml_sql = [q["sql"] for q in on_ml if f'FROM "{table}"' in q["sql"]]
    assert len(ml_sql) == 2, ml_sql  # the page and the detail (a short page needs no COUNT)
    assert not [q["sql"] for q in on_primary if table in q["sql"]]
    # The connection that answered is the tuned, read-only session on the standby.
    assert ml_session_settings() == ("5min", "256MB", "on", "1.1", True)


def test_an_admin_who_just_wrote_reads_ml_rows_from_the_primary(api, admin_a, tenant_a):
    """Read-your-writes holds here too: while the standby has not replayed the admin's write,
    the tuned primary session serves the next read; once it has, the standby does again.
    """
    alert = AnomalyAlertFactory(client=tenant_a)
    client = api(admin_a)
    wait_for_standby()
    with standby_delay(3):
        client.patch(f"/api/users/{admin_a.pk}", {"first_name": "Ada"}, format="json")
        with (
            CaptureQueriesContext(connections["ml"]) as on_ml,
            CaptureQueriesContext(connections["ml_primary"]) as on_ml_primary,
        ):
            response = client.get("/api/ml/anomaly-alerts")
        assert [row["id"] for row in response.json()["anomaly_alerts"]] == [alert.pk]
        assert not [q for q in on_ml if "ml_anomaly_alerts" in q["sql"]]
        assert [q for q in on_ml_primary if "ml_anomaly_alerts" in q["sql"]]
    wait_for_standby()
    with CaptureQueriesContext(connections["ml"]) as on_ml:
        assert client.get("/api/ml/anomaly-alerts").status_code == 200
    assert [q for q in on_ml if "ml_anomaly_alerts" in q["sql"]]
