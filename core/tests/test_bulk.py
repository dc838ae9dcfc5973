"""Bulk upsert by natural key: per-row results, both modes, isolation, limits, hostile rows."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from core.api.bulk import MAX_ROWS
from core.models import TenantRowCount
from core.tests.schema_operations import VECTOR
from issues.models import Issue
from issues.tests.factories import IssueFactory
from projects.tests.factories import ProjectFactory
from pullrequests.models import PullRequest
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bulk(client, path: str, rows, **envelope):
    return client.post(f"/api/{path}/bulk", {"rows": rows, **envelope}, format="json")


def statuses(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [result["status"] for result in response.json()["results"]]


def test_created_updated_unchanged_per_row_in_order(api, admin_a, tenant_a):
    client = api(admin_a)
    first = bulk(client, "issues", [
        {"key": "A-1", "summary": "one", "labels": ["x"], "created": "2026-01-01T00:00:00Z"},
        {"key": "A-2", "summary": "two", "story_points": 2, "status_name": "Done"},
    ])  # fmt: skip
    assert statuses(first) == ["created", "created"]
    ids = [result["id"] for result in first.json()["results"]]
    second = bulk(client, "issues", [
        {"key": "A-2", "story_points": 3},  # only the fields given are written
        {"key": "A-3", "summary": "three"},
        {"key": "A-1", "summary": "one", "labels": ["x"], "created": "2026-01-01T01:00:00+01:00"},
    ])  # fmt: skip
    assert statuses(second) == ["updated", "created", "unchanged"]
    body = second.json()
    assert [r["id"] for r in body["results"]][::2] == [ids[1], ids[0]]
    assert (body["created"], body["updated"], body["unchanged"], body["invalid"]) == (1, 1, 1, 0)
    two = client.get(f"/api/issues/{ids[1]}").json()
    assert (two["story_points"], two["summary"], two["status_name"]) == (3.0, "two", "Done")
    listed = client.get("/api/issues").json()
    assert (
        listed["total_count"]
        == 3
        == TenantRowCount.objects.get(table_name="issues", client_id=tenant_a.pk).rows
    )


def test_unchanged_rows_are_not_written(api, admin_a, tenant_a):
    client = api(admin_a)
    row = {"key": "U-1", "summary": "same", "story_points": 1.5, "labels": ["a", "b"]}
    bulk(client, "issues", [row])
    before = Issue.objects.values_list("last_updated_at", "change_xid").get(key="U-1")
    assert statuses(bulk(client, "issues", [row])) == ["unchanged"]
    assert Issue.objects.values_list("last_updated_at", "change_xid").get(key="U-1") == before


def test_all_or_nothing_names_the_row_and_field(api, admin_a, tenant_a):
    client = api(admin_a)
    rows = [{"key": "B-1", "summary": "fine"}, {"key": "B-2", "summary": "x", "story_points": -1}]
    response = bulk(client, "issues", rows)
    assert response.status_code == 400
    assert "story_points" in response.json()["rows"]["1"]
    assert not Issue.objects.filter(client=tenant_a).exists()


def test_per_row_mode_writes_the_valid_rows(api, admin_a, tenant_a):
    client = api(admin_a)
    rows = [{"key": "C-1", "summary": "fine"}, {"key": "C-2"}, {"key": "C-3", "summary": "ok"}]
    response = bulk(client, "issues", rows, atomic=False)
    assert statuses(response) == ["created", "invalid", "created"]
    assert response.json()["results"][1]["errors"] == {"summary": ["This field is required."]}
    assert sorted(Issue.objects.filter(client=tenant_a).values_list("key", flat=True)) == [
        "C-1",
        "C-3",
    ]


def test_rows_never_touch_another_clients_data(api, admin_a, admin_b, tenant_a, tenant_b):
    theirs = IssueFactory(client=tenant_b, key="SHARED-1", summary="theirs")
    their_project = ProjectFactory(client=tenant_b, key="THEIRS")
    client = api(admin_a)
    response = bulk(client, "issues", [
        {"key": "SHARED-1", "summary": "mine", "client_id": tenant_b.pk, "id": theirs.pk},
    ])  # fmt: skip
    assert statuses(response) == ["created"]
    mine = Issue.objects.get(pk=response.json()["results"][0]["id"])
    assert (mine.client_id, mine.summary) == (tenant_a.pk, "mine")
    theirs.refresh_from_db()
    assert theirs.summary == "theirs"
    # Their project, by key or by id, is no project of this client's: the same answer as none.
    refused = bulk(client, "issues", [
        {"key": "X-1", "summary": "s", "project_key": "THEIRS"},
        {"key": "X-2", "summary": "s", "project_key": "NOWHERE"},
        {"key": "X-3", "summary": "s", "project_id": their_project.pk},
        {"key": "X-4", "summary": "s", "project_id": 10**15},
    ], atomic=False)  # fmt: skip
    errors = [result.get("errors") for result in refused.json()["results"]]
    assert errors[0]["project_key"] == [
        errors[1]["project_key"][0].replace("'NOWHERE'", "'THEIRS'")
    ]
    assert errors[2]["project_id"] == [
        errors[3]["project_id"][0].replace(str(10**15), str(their_project.pk))
    ]


def test_references_by_natural_key(api, admin_a, tenant_a):
    project = ProjectFactory(client=tenant_a, key="PLAT")
    issue = IssueFactory(client=tenant_a, key="PLAT-9")
    client = api(admin_a)
    response = bulk(client, "issues", [{"key": "PLAT-1", "summary": "s", "project_key": "PLAT"}])
    assert (
        client.get(f"/api/issues/{response.json()['results'][0]['id']}").json()["project_id"]
        == project.pk
    )
    prs = bulk(client, "pull-requests", [
        {"repository": "org/api", "number": 1, "name": "one", "issue_key": "PLAT-9"},
        {"repository": "org/api", "number": 2, "name": "two"},
        {"repository": "org/web", "number": 1, "name": "other repo, same number"},
    ])  # fmt: skip
    assert statuses(prs) == ["created", "created", "created"]
    assert PullRequest.objects.get(repository="org/api", number=1).issue_id == issue.pk
    again = bulk(client, "pull-requests", [
        {"repository": "org/web", "number": 1, "status": "merged"},
        {"repository": "org/api", "number": 1, "issue_key": None},
    ])  # fmt: skip
    assert statuses(again) == ["updated", "updated"]
    assert PullRequest.objects.get(repository="org/api", number=1).issue_id is None
    both = bulk(client, "issues", [
        {"key": "PLAT-2", "summary": "s", "project_key": "PLAT", "project_id": project.pk}
    ])  # fmt: skip
    assert both.status_code == 400 and "project_key" in both.json()["rows"]["0"]


def test_a_soft_deleted_item_is_not_revived_a_new_one_is_created(api, admin_a, tenant_a):
    client = api(admin_a)
    old = IssueFactory(client=tenant_a, key="D-1", summary="old")
    assert client.delete(f"/api/issues/{old.pk}").status_code == 204
    response = bulk(client, "issues", [{"key": "D-1", "summary": "new"}])
    assert statuses(response) == ["created"]
    assert response.json()["results"][0]["id"] != old.pk
    old.refresh_from_db()
    assert (old.active, old.summary) == (False, "old")


def test_embeddings_in_bulk(api, admin_a, tenant_a):
    client = api(admin_a)
    response = bulk(client, "projects", [
        {"key": "E1", "name": "with", "embedding": VECTOR},
        {"key": "E2", "name": "without", "embedding": None},
    ])  # fmt: skip
    assert statuses(response) == ["created", "created"]
    first = response.json()["results"][0]["id"]
    shown = client.get(f"/api/projects/{first}", {"include_ml_fields": "true"}).json()
    assert shown["embedding"] == pytest.approx(VECTOR, rel=1e-6)
    assert statuses(bulk(client, "projects", [{"key": "E1", "embedding": VECTOR}])) == ["unchanged"]
    wrong = bulk(client, "projects", [
        {"key": "E3", "name": "n", "embedding": [1.0] * 3},
        {"key": "E4", "name": "n", "embedding": [0.0] * 1536},
        {"key": "E5", "name": "n", "embedding": "1,2"},
    ], atomic=False)  # fmt: skip
    assert all("embedding" in r["errors"] for r in wrong.json()["results"])


def test_row_count_limit(api, admin_a, tenant_a):
    client = api(admin_a)
    rows = [{"key": f"L-{n}", "summary": "s"} for n in range(MAX_ROWS + 1)]
    response = bulk(client, "issues", rows)
    assert response.status_code == 400 and "rows" in response.json()
    assert "1000" in response.json()["rows"][0]
    assert not Issue.objects.exists()
    assert statuses(bulk(client, "issues", rows[:MAX_ROWS])) == ["created"] * MAX_ROWS
    assert client.get("/api/issues").json()["total_count"] == MAX_ROWS


HOSTILE_ENVELOPES = [
    ([], "non_field_errors"),
    ("rows", "non_field_errors"),
    ({}, "rows"),
    ({"rows": []}, "rows"),
    ({"rows": {"key": "A"}}, "rows"),
    ({"rows": None}, "rows"),
    ({"rows": [{"key": "A", "summary": "s"}], "atomic": "false"}, "atomic"),
    ({"rows": [{"key": "A", "summary": "s"}], "atomic": 0}, "atomic"),
    ({"rows": [{"key": "A", "summary": "s"}], "mode": "each"}, "mode"),
]


@pytest.mark.parametrize(("body", "named"), HOSTILE_ENVELOPES)
def test_hostile_envelopes_are_400s_naming_the_field(api, admin_a, body, named):
    response = api(admin_a).post("/api/issues/bulk", body, format="json")
    assert response.status_code == 400 and named in response.json()


HOSTILE_ROWS = [
    ("a string", "non_field_errors"),
    (None, "non_field_errors"),
    ([1, 2], "non_field_errors"),
    ({"summary": "no key"}, "key"),
    ({"key": None, "summary": "s"}, "key"),
    ({"key": 12, "summary": "s"} | {"key": ["K"]}, "key"),
    ({"key": "", "summary": "s"}, "key"),
    ({"key": "K" * 51, "summary": "s"}, "key"),
    ({"key": "K\x00", "summary": "s"}, "key"),
    ({"key": "K-1", "summary": "s", "bogus": 1}, "bogus"),
    ({"key": "K-2", "summary": "s", "story_points": "3"}, "story_points"),
    ({"key": "K-3", "summary": "s", "story_points": True}, "story_points"),
    ({"key": "K-4", "summary": "s", "story_points": 1e7}, "story_points"),
    ({"key": "K-5", "summary": "s", "labels": "a,b"}, "labels"),
    ({"key": "K-6", "summary": "s", "labels": [{"a": 1}]}, "labels"),
    ({"key": "K-7", "summary": "s", "created": "yesterday"}, "created"),
    ({"key": "K-8", "summary": "s", "project_id": "1"}, "project_id"),
    ({"key": "K-9", "summary": "s", "project_id": 2**63}, "project_id"),
    ({"key": "K-10", "summary": "s", "project_key": 7}, "project_key"),
    ({"key": "K-11", "summary": "s", "embedding": [1e39] * 1536}, "embedding"),
    ({"key": "K-12", "summary": {"nested": "object"}}, "summary"),
    ({"key": "K-13", "summary": "s", "work_first_started_at": "2026-01-01T00:00:00Z"}, None),
]


def test_hostile_rows_are_reported_per_row_never_500(api, admin_a, tenant_a):
    client = api(admin_a)
    rows = [row for row, _ in HOSTILE_ROWS]
    response = client.post(
        "/api/issues/bulk",
        {"rows": rows, "atomic": False},
        format="json",
    )
    results = response.json()["results"]
    for (_, named), result in zip(HOSTILE_ROWS, results, strict=True):
        if named is None:  # a read-only field is ignored, as in a single write
            assert result["status"] == "created", result
        else:
            assert result["status"] == "invalid" and named in result["errors"], (named, result)
    # The same rows all-or-nothing: a 400 naming every bad row.
    whole = client.post("/api/issues/bulk", {"rows": rows}, format="json")
    assert whole.status_code == 400
    assert sorted(map(int, whole.json()["rows"])) == [
        i for i, (_, named) in enumerate(HOSTILE_ROWS) if named is not None
    ]
    # A key given twice in one request: the second row is refused.
    twice = bulk(client, "issues", [{"key": "T", "summary": "a"}, {"key": "T", "summary": "b"}])
    assert twice.status_code == 400 and "key" in twice.json()["rows"]["1"]


def test_who_may_bulk_write(api, admin_a, user_a, viewer_a, tenant_a):
    rows = [{"key": "P-1", "summary": "s"}]
    assert bulk(api(viewer_a), "issues", rows).status_code == 403
    assert bulk(api(user_a), "issues", rows).status_code == 200
    assert bulk(api(user_a), "users", [{"email": "new@example.com"}]).status_code == 403
    assert bulk(api(), "issues", rows).status_code == 401


def test_users_in_bulk_follow_the_user_rules(api, admin_a, tenant_a, tenant_b):
    client = api(admin_a)
    UserFactory(client=tenant_b, email="shared@example.com", role="admin")
    response = bulk(client, "users", [
        {"email": "Shared@Example.com", "first_name": "Ada"},
        {"email": admin_a.email, "role": "viewer"},  # their own role
        {"email": "pw@example.com", "password": "a-long-password-1"},
    ], atomic=False)  # fmt: skip
    assert statuses(response) == ["created", "invalid", "invalid"]
    results = response.json()["results"]
    assert "role" in results[1]["errors"] and "password" in results[2]["errors"]
    created = User.objects.get(pk=results[0]["id"])
    assert (created.client_id, created.email, created.has_usable_password()) == (
        tenant_a.pk,
        "shared@example.com",
        False,
    )


def test_a_role_changed_in_bulk_applies_to_the_users_next_request(api, admin_a, tenant_a):
    member = UserFactory(client=tenant_a, role="user")
    theirs = api(member)
    assert (
        theirs.post("/api/issues", {"key": "M-1", "summary": "s"}, format="json").status_code == 201
    )
    response = bulk(api(admin_a), "users", [{"email": member.email, "role": "viewer"}])
    assert statuses(response) == ["updated"]
    assert (
        theirs.post("/api/issues", {"key": "M-2", "summary": "s"}, format="json").status_code == 403
    )


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_bulk_writes_of_the_same_new_keys(api, admin_a, tenant_a):
    rows = [{"key": f"R-{n}", "summary": "s"} for n in range(200)]
    answers: list = []

    def send(order: int) -> None:
        try:
            # The same keys in other orders: the writes must not deadlock.
            answers.append(bulk(api(admin_a), "issues", rows[::order]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(order,)) for order in (1, -1, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    created = sorted(answer.json()["created"] for answer in answers)
    assert created[-1] == 200 and created[:2] == [0, 0]
    assert Issue.objects.filter(client=tenant_a, active=True).count() == 200
    # Read your writes: the caller's next read sees every row, wherever it is served.
    assert api(admin_a).get("/api/issues").json()["total_count"] == 200


def test_json_fields_in_bulk_rows_as_in_single_writes(api, admin_a, tenant_a):
    client = api(admin_a)
    response = bulk(client, "users", [
        {"email": "big@example.com", "preferences": {"a": 2**64, "b": -(10**40)}},
        {"email": "nul@example.com", "preferences": {"a": "x\u0000"}},
        {"email": "key@example.com", "preferences": {"\u0000": 1}},
    ], atomic=False)  # fmt: skip
    assert statuses(response) == ["created", "invalid", "invalid"]
    assert all("preferences" in r["errors"] for r in response.json()["results"][1:])
    created = User.objects.get(email="big@example.com")
    assert created.preferences == {"a": 2**64, "b": -(10**40)}
    single = client.post(
        "/api/users", {"email": "one@example.com", "preferences": {"a": "\u0000"}}, format="json"
    )
    assert single.status_code == 400 and "preferences" in single.json()


def test_emails_that_differ_are_different_users(api, admin_a, tenant_a):
    client = api(admin_a)
    # U+0131 (dotless i) upper-cases as "I": a different address all the same.
    first = bulk(client, "users", [{"email": "\u0131van@example.com"}])
    second = bulk(client, "users", [{"email": "ivan@example.com", "first_name": "Ivan"}])
    assert statuses(first) == statuses(second) == ["created"]
    assert client.get("/api/users", {"email": "IVAN@example.com"}).json()["count"] == 1
    assert statuses(bulk(client, "users", [{"email": "Ivan@Example.com", "first_name": "I"}])) == [
        "updated"
    ]


def test_both_references_null_is_no_reference(api, admin_a, tenant_a):
    client = api(admin_a)
    rows = [{"repository": "o/r", "number": 1, "name": "n", "issue_id": None, "issue_key": None}]
    assert statuses(bulk(client, "pull-requests", rows)) == ["created"]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_bulk_writes_of_the_same_new_users(api, admin_a, tenant_a):
    answers: list = []

    def send(name: str) -> None:
        try:
            rows = [{"email": f"race{n}@example.com", "first_name": name} for n in range(50)]
            answers.append(bulk(api(admin_a), "users", rows))
        finally:
            connections.close_all()

    for round_ in range(3):
        threads = [threading.Thread(target=send, args=(f"{round_}{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [answer.status_code for answer in answers] == [200] * 6, [
        a.content[:200] for a in answers
    ]
    assert User.objects.filter(client=tenant_a, email__startswith="race").count() == 50
