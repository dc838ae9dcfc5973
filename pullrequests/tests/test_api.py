"""Pull request endpoints: filters and the issue link staying inside the tenant."""

import pytest

from issues.tests.factories import IssueFactory
from pullrequests.tests.factories import PullRequestFactory

pytestmark = pytest.mark.django_db


def numbers(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["number"] for row in response.json()["pull_requests"]}


def test_filters(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a)
    PullRequestFactory(
        client=tenant_a,
        number=1,
        repository="acme/api",
        status="merged",
        user_name="ana",
        issue=issue,
    )
    PullRequestFactory(
        client=tenant_a, number=2, repository="acme/web", status="open", user_name="bo"
    )
    client = api(admin_a)
    assert numbers(client.get("/api/pull-requests", {"repository": "acme/api"})) == {1}
    assert numbers(client.get("/api/pull-requests", {"status": "open"})) == {2}
    assert numbers(client.get("/api/pull-requests", {"user_name": "ana"})) == {1}
    assert numbers(client.get("/api/pull-requests", {"issue_id": issue.pk})) == {1}
    response = client.get("/api/pull-requests", {"status": "weird"})
    assert response.status_code == 400 and "status" in response.json()


def test_issue_of_another_client_is_400(api, admin_a, tenant_b):
    theirs = IssueFactory(client=tenant_b)
    body = {"repository": "acme/api", "number": 9, "name": "x", "issue_id": theirs.pk}
    response = api(admin_a).post("/api/pull-requests", body, format="json")
    assert response.status_code == 400
    assert "issue_id" in response.json()


def test_status_must_be_known(api, admin_a):
    body = {"repository": "acme/api", "number": 9, "name": "x", "status": "draft"}
    response = api(admin_a).post("/api/pull-requests", body, format="json")
    assert response.status_code == 400 and "status" in response.json()


def test_negative_counts_are_400(api, admin_a):
    body = {"repository": "acme/api", "number": 9, "name": "x", "additions": -5}
    response = api(admin_a).post("/api/pull-requests", body, format="json")
    assert response.status_code == 400 and "additions" in response.json()
