"""``Idempotency-Key`` on creates and bulk upserts: a retried POST is answered, not written again."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from core.models import IdempotencyKey
from issues.models import Issue
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases="__all__")

BODY = {"key": "IDEM-1", "summary": "Retried after a timeout"}


def post(client, path, body, key, **headers):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def issues_of(tenant, key: str) -> int:
    return Issue.objects.using("default").filter(client=tenant, key=key).count()


def test_a_retried_create_is_answered_as_the_first_one(api, admin_a, tenant_a):
    client = api(admin_a)
    first = post(client, "/api/issues", BODY, "order-7")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = post(client, "/api/issues", BODY, "order-7")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert issues_of(tenant_a, "IDEM-1") == 1
    # The same body in another spacing and key order is the same request.
    reordered = client.generic(
        "POST",
        "/api/issues",
        '{ "summary": "Retried after a timeout",  "key": "IDEM-1" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-7",
    )
    assert reordered.status_code == 201 and reordered.json() == first.json()
    # Without a key the same body is a new request (here: a conflict on the issue key).
    assert client.post("/api/issues", BODY, format="json").status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "who"),
    [
        ("/api/issues", {**BODY, "summary": "Another summary"}, "same"),
        ("/api/projects", {"key": "IDEM", "name": "Idempotent"}, "same"),
        ("/api/issues?include_ml_fields=true", BODY, "same"),
        ("/api/issues", BODY, "colleague"),
    ],
)
def test_a_key_sent_with_another_request_is_a_422(api, admin_a, tenant_a, path, body, who):
    assert post(api(admin_a), "/api/issues", BODY, "k-1").status_code == 201
    sender = admin_a if who == "same" else UserFactory(client=tenant_a, role="admin")
    answer = post(api(sender), path, body, "k-1")
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("Idempotency-Key: ")
    assert issues_of(tenant_a, "IDEM-1") == 1


def test_keys_are_per_client(api, admin_a, admin_b, tenant_a, tenant_b):
    assert post(api(admin_a), "/api/issues", BODY, "shared-key").status_code == 201
    theirs = post(api(admin_b), "/api/issues", {**BODY, "summary": "b"}, "shared-key")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert theirs.json()["client_id"] == tenant_b.pk
    assert issues_of(tenant_b, "IDEM-1") == 1


def test_a_refused_request_leaves_its_key_free(api, admin_a, tenant_a):
    client = api(admin_a)
    refused = post(client, "/api/issues", {"key": "IDEM-1"}, "retry-me")
    assert refused.status_code == 400 and "summary" in refused.json()
    # The corrected request with the same key is a new request, and is then remembered.
    assert post(client, "/api/issues", BODY, "retry-me").status_code == 201
    assert post(client, "/api/issues", BODY, "retry-me")["Idempotent-Replayed"] == "true"
    # A conflict is not remembered either.
    conflict = post(client, "/api/issues", BODY, "second")
    assert conflict.status_code == 409
    assert not IdempotencyKey.objects.using("default").filter(key="second").exists()


@pytest.mark.parametrize(
    "key", ["", " ", "a b", "x" * 256, "tab\there", "é", "emoji-\U0001f600", "nul\x00"]
)
def test_a_malformed_key_is_a_400_naming_the_header(api, admin_a, tenant_a, key):
    answer = api(admin_a).generic(
        "POST",
        "/api/issues",
        '{"key": "IDEM-1", "summary": "s"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()
    assert issues_of(tenant_a, "IDEM-1") == 0


def test_a_retried_bulk_upsert_replays_its_results(api, admin_a, tenant_a):
    client = api(admin_a)
    rows = {"rows": [{"key": f"B-{n}", "summary": f"row {n}"} for n in range(3)]}
    first = post(client, "/api/issues/bulk", rows, "nightly-2026-12-03")
    assert first.status_code == 200 and first.json()["created"] == 3
    # Replayed: "created" as the first time, not "unchanged".
    again = post(client, "/api/issues/bulk", rows, "nightly-2026-12-03")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert client.post("/api/issues/bulk", rows, format="json").json()["unchanged"] == 3


def test_an_expired_key_is_free_again(api, admin_a, tenant_a, settings):
    client = api(admin_a)
    assert post(client, "/api/issues", BODY, "old-key").status_code == 201
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
            "WHERE key = 'old-key'"
        )
    other = post(client, "/api/issues", {"key": "IDEM-2", "summary": "new"}, "old-key")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert IdempotencyKey.objects.using("default").filter(key="old-key").count() == 1


def test_expired_keys_are_purged_by_later_requests(api, admin_a, tenant_a):
    client = api(admin_a)
    for n in range(3):
        post(client, "/api/issues", {"key": f"P-{n}", "summary": "s"}, f"purge-{n}")
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
            "WHERE key LIKE 'purge-%%'"
        )
    post(client, "/api/issues", {"key": "P-9", "summary": "s"}, "later")
    kept = set(IdempotencyKey.objects.using("default").values_list("key", flat=True))
    assert kept == {"later"}


def test_the_header_and_its_answers_are_in_the_schema(api, admin_a):
    paths = api(admin_a).get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/issues/", "/api/issues/bulk/", "/api/users/"):
        operation = paths[path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]], path
        assert "422" in operation["responses"], path
    assert "Idempotency-Key" not in [
        p["name"] for p in paths["/api/issues/similar/"]["post"].get("parameters", [])
    ]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_retries_write_once(api, admin_a, tenant_a):
    """Each round, two requests with one key start together: one row, one answer."""
    for round_ in range(5):
        key, body = str(uuid.uuid4()), {"key": f"RACE-{round_}", "summary": "s"}
        start, answers = threading.Barrier(2), []

        def send(body=body, key=key, start=start, answers=answers):
            client = api(admin_a)
            start.wait()
            answers.append(post(client, "/api/issues", body, key))
            connections.close_all()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [a.status_code for a in answers] == [201, 201], [a.json() for a in answers]
        assert answers[0].json() == answers[1].json()
        assert sum("Idempotent-Replayed" in a for a in answers) == 1
        assert issues_of(tenant_a, f"RACE-{round_}") == 1
