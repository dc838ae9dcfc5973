"""Lookup by natural key, "any of" values, null filters and time ranges, on every list."""

from __future__ import annotations

import datetime as dt

import pytest

from core.api.filters import MAX_VALUES
from issues.models import Issue
from issues.tests.factories import IssueFactory
from mlmonitoring.tests.factories import PredictionLogFactory
from projects.tests.factories import ProjectFactory
from pullrequests.tests.factories import PullRequestFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    body = response.json()
    return sorted(row["id"] for row in next(v for v in body.values() if isinstance(v, list)))


def test_lookup_by_natural_key_finds_the_callers_row_only(api, admin_a, tenant_a, tenant_b):
    client = api(admin_a)
    mine = IssueFactory(client=tenant_a, key="PLAT-1")
    IssueFactory(client=tenant_b, key="PLAT-1")  # another client's issue with the same key
    IssueFactory(client=tenant_a, key="PLAT-1", active=False)  # deleted
    assert ids(client.get("/api/issues", {"key": "PLAT-1"})) == [mine.pk]
    assert ids(client.get("/api/issues", {"key": "plat-1"})) == []  # exact
    project = ProjectFactory(client=tenant_a, key="PLAT")
    ProjectFactory(client=tenant_b, key="PLAT")
    assert ids(client.get("/api/projects", {"key": "PLAT"})) == [project.pk]
    pr = PullRequestFactory(client=tenant_a, repository="org/api", number=7)
    PullRequestFactory(client=tenant_a, repository="org/web", number=7)
    PullRequestFactory(client=tenant_b, repository="org/api", number=7)
    found = client.get("/api/pull-requests", {"repository": "org/api", "number": 7})
    assert ids(found) == [pr.pk]
    person = UserFactory(client=tenant_a, email="ada@example.com")
    UserFactory(client=tenant_b, email="ada@example.com")
    assert ids(client.get("/api/users", {"email": "Ada@Example.com"})) == [person.pk]


def test_repeated_values_mean_any_of(api, admin_a, tenant_a):
    done = IssueFactory(client=tenant_a, status_name="Done")
    todo = IssueFactory(client=tenant_a, status_name="To Do")
    IssueFactory(client=tenant_a, status_name="In Progress")
    client = api(admin_a)
    both = client.get("/api/issues?status_name=Done&status_name=To%20Do")
    assert ids(both) == sorted([done.pk, todo.pk])
    assert both.json()["total_count"] == 2
    assert ids(client.get("/api/issues?status_name=Done&status_name=Done")) == [done.pk]
    merged = PullRequestFactory(client=tenant_a, status="merged")
    closed = PullRequestFactory(client=tenant_a, status="closed")
    PullRequestFactory(client=tenant_a, status="open")
    answer = client.get("/api/pull-requests?status=merged&status=closed")
    assert ids(answer) == sorted([merged.pk, closed.pk])
    assert client.get("/api/pull-requests?status=merged&status=bogus").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "search=a&search=b",
        "project_id=1&project_id=2",
        "assignee__isnull=true&assignee__isnull=false",
        "created_after=2026-01-01&created_after=2026-02-01",
        "limit=1&limit=2",
        "ordering=key&ordering=id",
        "include_ml_fields=true&include_ml_fields=false",
    ],
)
def test_a_single_valued_parameter_given_twice_is_a_400_naming_it(api, admin_a, query):
    response = api(admin_a).get(f"/api/issues?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_too_many_or_empty_values_are_400s(api, admin_a):
    client = api(admin_a)
    many = "&".join(f"key=K-{n}" for n in range(MAX_VALUES + 1))
    assert "key" in client.get(f"/api/issues?{many}").json()
    enough = "&".join(f"key=K-{n}" for n in range(MAX_VALUES))
    assert client.get(f"/api/issues?{enough}").status_code == 200
    for query in ("key=", "key=A&key=", "status_name=", "email=", "number=", "number=x"):
        path = "/api/pull-requests" if query.startswith("number") else "/api/issues"
        path = "/api/users" if query.startswith("email") else path
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400 and query.split("=")[0] in response.json(), query


def test_null_filters(api, admin_a, tenant_a):
    project = ProjectFactory(client=tenant_a)
    unassigned = IssueFactory(client=tenant_a, assignee=None, project=None)
    assigned = IssueFactory(client=tenant_a, assignee="ada", project=project)
    client = api(admin_a)
    assert ids(client.get("/api/issues", {"assignee__isnull": "true"})) == [unassigned.pk]
    assert ids(client.get("/api/issues", {"assignee__isnull": "false"})) == [assigned.pk]
    assert ids(client.get("/api/issues", {"project_id__isnull": "yes"})) == [unassigned.pk]
    for value in ("", "maybe", "2", "null"):
        response = client.get("/api/issues", {"assignee__isnull": value})
        assert response.status_code == 400 and "assignee__isnull" in response.json()


def test_time_ranges_are_half_open(api, admin_a, tenant_a):
    def at(hour: int) -> dt.datetime:
        return dt.datetime(2026, 3, 1, hour, tzinfo=dt.UTC)

    rows = {
        hour: IssueFactory(client=tenant_a, created=at(hour), updated=at(hour))
        for hour in (9, 10, 11)
    }
    client = api(admin_a)
    window = {"created_after": "2026-03-01T10:00:00Z", "created_before": "2026-03-01T11:00:00Z"}
    assert ids(client.get("/api/issues", window)) == [rows[10].pk]
    # The same instant written with another offset.
    assert ids(client.get("/api/issues?updated_after=2026-03-01T11:00:00%2B01:00")) == sorted(
        [rows[10].pk, rows[11].pk]
    )
    assert ids(client.get("/api/issues", {"updated_before": "2026-03-01"})) == []
    Issue.objects.filter(pk=rows[9].pk).update(created_at=at(9))
    assert ids(client.get("/api/issues", {"created_at_before": "2026-03-01T09:30:00Z"})) == [
        rows[9].pk
    ]
    everything = ids(client.get("/api/issues", {"last_updated_at_after": "2026-01-01"}))
    assert everything == sorted(row.pk for row in rows.values())


MALFORMED_TIMES = [
    "",
    "yesterday",
    "2026-03-01T10:00:00",  # no offset: which time zone?
    "2026-03-01T10:00:00 01:00",  # an unencoded + became a space
    "2026-02-30",
    "2026-13-01",
    "2026-03-01T24:00:00Z",
    "2026-03-01T10:00:00+24:00",
    "0000-01-01",
    "10000-01-01",
    "9999-12-31T23:59:59-01:00",  # past year 9999 in UTC
    "0001-01-01T00:00:00+00:01",  # before year 1 in UTC
    "20260301",
    "2026-W09",
    "1e10",
    "2026-03-01T10:00:00.1234567Z",
    "\uff12\uff10\uff12\uff16-03-01",  # full-width digits
    "2026-03-01\x00",
]


@pytest.mark.parametrize("value", MALFORMED_TIMES)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/issues", "created_after"),
        ("/api/issues", "last_updated_at_before"),
        ("/api/pull-requests", "merged_at_after"),
        ("/api/projects", "created_at_after"),
        ("/api/users", "last_updated_at_after"),
        ("/api/ml/prediction-logs", "created_after"),
        ("/api/ml/anomaly-alerts", "created_before"),
    ],
)
def test_malformed_times_are_400s_naming_the_parameter(api, admin_a, path, name, value):
    response = api(admin_a).get(path, {name: value})
    assert response.status_code == 400, (name, value)
    assert name in response.json()


def test_ml_lists_take_created_after_and_before(api, admin_a, tenant_a):
    old = PredictionLogFactory(client=tenant_a)
    new = PredictionLogFactory(client=tenant_a)
    old.__class__.objects.filter(pk=old.pk).update(
        created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    client = api(admin_a)
    assert ids(client.get("/api/ml/prediction-logs", {"created_after": "2026-01-01"})) == [new.pk]
    assert ids(client.get("/api/ml/prediction-logs", {"created_before": "2026-01-01"})) == [old.pk]
