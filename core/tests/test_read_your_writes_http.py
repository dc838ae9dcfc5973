"""Read-your-writes over HTTP while the standby really lags."""

import pytest

from core.testing import standby_delay, wait_for_standby
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_post_then_immediate_get_with_a_delayed_standby(api, settings, admin_a, user_a, tenant_a):
    settings.REPLICA_MAX_LAG_SECONDS = 30
    settings.REPLICA_PIN_SECONDS = 40
    writer, colleague = api(admin_a), api(user_a)
    IssueFactory(client=tenant_a, key="OLD-1")
    wait_for_standby()
    with standby_delay(4):
        created = writer.post("/api/issues", {"key": "NEW-1", "summary": "fresh"}, format="json")
        assert created.status_code == 201
        issue_id = created.json()["id"]
        # The writer's next request reads from the primary.
        assert writer.get(f"/api/issues/{issue_id}").status_code == 200
        assert "NEW-1" in {row["key"] for row in writer.get("/api/issues").json()["issues"]}
        # A colleague in the same window reads the standby, which has not replayed it yet.
        assert colleague.get(f"/api/issues/{issue_id}").status_code == 404
    wait_for_standby()
    assert colleague.get(f"/api/issues/{issue_id}").status_code == 200


def test_primary_down_writes_are_503_reads_go_on(api, admin_a, tenant_a):
    from core.testing import server_stopped

    IssueFactory(client=tenant_a, key="KEEP-1")
    client = api(admin_a)
    wait_for_standby()
    with server_stopped(standby=False):
        response = client.post("/api/issues", {"key": "LOST-1", "summary": "s"}, format="json")
        assert response.status_code == 503
        assert response["Retry-After"]
        assert "detail" in response.json()
        listing = client.get("/api/issues")
        assert listing.status_code == 200
        assert [row["key"] for row in listing.json()["issues"]] == ["KEEP-1"]
