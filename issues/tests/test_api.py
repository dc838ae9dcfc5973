"""Issue endpoints: filters, stats, and the project link staying inside the tenant."""

import pytest

from issues.tests.factories import IssueFactory
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def keys(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["key"] for row in response.json()["issues"]}


def test_filters(api, admin_a, tenant_a):
    project = ProjectFactory(client=tenant_a, key="PLAT")
    IssueFactory(client=tenant_a, key="PLAT-1", project=project, status_name="Done", priority="High",
                 issuetype_name="Bug", assignee="ana", summary="Login fails")  # fmt: skip
    IssueFactory(client=tenant_a, key="OPS-1", status_name="To Do", priority="Low",
                 issuetype_name="Story", assignee="bo", summary="Rotate keys")  # fmt: skip
    client = api(admin_a)
    assert keys(client.get("/api/issues", {"project_id": project.pk})) == {"PLAT-1"}
    assert keys(client.get("/api/issues", {"project_key": "PLAT"})) == {"PLAT-1"}
    assert keys(client.get("/api/issues", {"status_name": "To Do"})) == {"OPS-1"}
    assert keys(client.get("/api/issues", {"priority": "High"})) == {"PLAT-1"}
    assert keys(client.get("/api/issues", {"issuetype_name": "Story"})) == {"OPS-1"}
    assert keys(client.get("/api/issues", {"assignee": "bo"})) == {"OPS-1"}
    assert keys(client.get("/api/issues", {"search": "login"})) == {"PLAT-1"}
    assert keys(client.get("/api/issues", {"search": "ops-"})) == {"OPS-1"}
    response = client.get("/api/issues", {"project_id": "abc"})
    assert response.status_code == 400 and "project_id" in response.json()


def test_ordering(api, admin_a, tenant_a):
    for key in ("B-1", "A-1", "C-1"):
        IssueFactory(client=tenant_a, key=key)
    rows = api(admin_a).get("/api/issues", {"ordering": "key"}).json()["issues"]
    assert [row["key"] for row in rows] == ["A-1", "B-1", "C-1"]
    rows = api(admin_a).get("/api/issues", {"ordering": "-key"}).json()["issues"]
    assert [row["key"] for row in rows] == ["C-1", "B-1", "A-1"]


def test_default_order_is_newest_first(api, admin_a, tenant_a):
    first, second = IssueFactory(client=tenant_a), IssueFactory(client=tenant_a)
    rows = api(admin_a).get("/api/issues").json()["issues"]
    assert [row["id"] for row in rows] == [second.pk, first.pk]


def test_project_of_another_client_is_400(api, admin_a, tenant_a, tenant_b):
    theirs = ProjectFactory(client=tenant_b)
    client = api(admin_a)
    response = client.post(
        "/api/issues", {"key": "X-1", "summary": "s", "project_id": theirs.pk}, format="json"
    )
    assert response.status_code == 400
    assert "project_id" in response.json()
    mine = IssueFactory(client=tenant_a)
    response = client.patch(f"/api/issues/{mine.pk}", {"project_id": theirs.pk}, format="json")
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.project_id is None


def test_project_id_out_of_range_is_400(api, admin_a):
    body = {"key": "X-1", "summary": "s", "project_id": 2**70}
    response = api(admin_a).post("/api/issues", body, format="json")
    assert response.status_code == 400 and "project_id" in response.json()


def test_duplicate_key_is_409_naming_it(api, admin_a, tenant_a, tenant_b):
    IssueFactory(client=tenant_a, key="DUP-1")
    IssueFactory(client=tenant_b, key="DUP-2")
    client = api(admin_a)
    response = client.post("/api/issues", {"key": "DUP-1", "summary": "again"}, format="json")
    assert response.status_code == 409
    assert response.json()["fields"] == ["client", "key"]
    # Another tenant's key is no conflict (and nothing tells that it exists).
    assert (
        client.post("/api/issues", {"key": "DUP-2", "summary": "s"}, format="json").status_code
        == 201
    )


def test_stats_counts_only_the_callers_active_issues(api, admin_a, tenant_a, tenant_b):
    IssueFactory(client=tenant_a, status_name="Done", priority="High")
    IssueFactory(client=tenant_a, status_name="Done", priority="Low")
    IssueFactory(client=tenant_a, status_name="To Do", priority="Low", active=False)
    IssueFactory(client=tenant_b, status_name="Done", priority="High")
    body = api(admin_a).get("/api/issues/stats").json()
    assert body == {"total": 2, "by_status_name": {"Done": 2}, "by_priority": {"High": 1, "Low": 1}}


def test_workflow_metrics_are_read_only(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a, total_cycle_time_seconds=60)
    api(admin_a).patch(f"/api/issues/{issue.pk}", {"total_cycle_time_seconds": 1}, format="json")
    issue.refresh_from_db()
    assert issue.total_cycle_time_seconds == 60


def test_negative_story_points_are_400(api, admin_a):
    response = api(admin_a).post(
        "/api/issues", {"key": "S-1", "summary": "s", "story_points": -1}, format="json"
    )
    assert response.status_code == 400 and "story_points" in response.json()
