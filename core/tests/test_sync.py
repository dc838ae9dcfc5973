"""Incremental sync: a reader that follows ``next_sync`` tokens never misses a change, however
the writers' transactions overlap, and learns of deletes through tombstones."""

from __future__ import annotations

import base64
import json
import random
import threading

import pytest
from django.db import connections, transaction
from django.http import QueryDict

from core.testing import wait_for_standby
from issues.models import Issue
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def sync_all(client, token: str = "", **params) -> tuple[list[dict], str, list[dict]]:
    """Follow the sync listing until no page is ready: the rows served, the last token, pages."""
    rows, pages = [], []
    while True:
        response = client.get("/api/issues", {"sync": token, "limit": 3, **params})
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append(page)
        rows += page["issues"]
        token = page["next_sync"]
        if not page["more"]:
            return rows, token, pages


def in_open_transaction(create, started: threading.Event, release: threading.Event, out: list):
    """Write in a transaction that stays open until ``release`` (another thread's writer)."""
    try:
        with transaction.atomic(using="default"):
            out.append(create())
            started.set()
            assert release.wait(30)
    finally:
        connections.close_all()


def test_a_row_committed_after_a_later_one_is_not_skipped(api, admin_a, tenant_a):
    client = api(admin_a)
    first = IssueFactory(client=tenant_a, key="FIRST")
    wait_for_standby()
    served, token, _ = sync_all(client)
    assert [row["key"] for row in served] == ["FIRST"]

    def edit_first():
        # An update that leaves the row active takes no lock other writers wait for.
        return Issue.objects.using("default").filter(pk=first.pk).update(summary="edited early")

    started, release, done = threading.Event(), threading.Event(), []
    writer = threading.Thread(target=in_open_transaction, args=(edit_first, started, release, done))
    writer.start()
    assert started.wait(30)
    IssueFactory(client=tenant_a, key="LATE")  # written after the edit, committed before it
    wait_for_standby()
    # Ordered by time, a cursor would pass the edit by for good: LATE is newer and visible now.
    by_time = client.get("/api/issues", {"ordering": "last_updated_at", "cursor": ""}).json()
    assert [row["key"] for row in by_time["issues"]] == ["FIRST", "LATE"]
    # The sync listing holds LATE back while the edit's transaction is open.
    served, token, _ = sync_all(client, token)
    assert served == []
    release.set()
    writer.join(30)
    assert done == [1]
    wait_for_standby()
    served, token, _ = sync_all(client, token)
    assert (served[0]["key"], served[0]["summary"]) == ("FIRST", "edited early")
    assert [row["key"] for row in served] == ["FIRST", "LATE"]
    assert sync_all(client, token)[0] == []


def test_concurrent_writers_never_make_the_reader_miss_a_change(api, admin_a, tenant_a):
    """Writers insert, update and delete in overlapping transactions of random length while a
    reader syncs; applying what the reader was served gives exactly the table's final state."""
    client = api(admin_a)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for n in range(25):
                with transaction.atomic(using="default"):
                    mine = list(
                        Issue.objects.using("default")
                        .filter(client=tenant_a, key__startswith=f"W{seed}-")
                        .values_list("pk", flat=True)
                    )
                    action = rng.random()
                    if mine and action < 0.3:
                        Issue.objects.using("default").filter(pk=rng.choice(mine)).update(
                            summary=f"edited {n}"
                        )
                    elif mine and action < 0.4:
                        Issue.objects.using("default").filter(pk=rng.choice(mine)).update(
                            active=False
                        )
                    else:
                        IssueFactory(client=tenant_a, key=f"W{seed}-{n}")
                    # Hold the transaction open a while: others commit meanwhile.
                    stop.wait(rng.random() * 0.05)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in writers:
        thread.start()
    copy: dict[int, dict] = {}
    token, rounds = "", 0
    while any(thread.is_alive() for thread in writers) or rounds < 1:
        served, token, _ = sync_all(client, token, include_deleted="true")
        copy.update((row["id"], row) for row in served)
        rounds += 1
    for thread in writers:
        thread.join()
    assert not errors, errors
    wait_for_standby()
    served, token, _ = sync_all(client, token, include_deleted="true")
    copy.update((row["id"], row) for row in served)

    stored = {
        row["id"]: row
        for row in client.get("/api/issues", {"include_deleted": "true", "limit": 1000}).json()[
            "issues"
        ]
    }
    assert len(stored) > 50 and rounds > 1
    assert copy == stored  # every row, in its last version, deletes included


def test_tombstones_and_what_sync_refuses(api, admin_a, user_a, tenant_a, tenant_b):
    client = api(admin_a)
    kept = IssueFactory(client=tenant_a, status_name="Done")
    gone = IssueFactory(client=tenant_a, status_name="Done")
    IssueFactory(client=tenant_b, status_name="Done")  # another client's
    wait_for_standby()
    served, token, _ = sync_all(client, include_deleted="true")
    assert sorted(row["id"] for row in served) == sorted([kept.pk, gone.pk])
    _, plain_token, _ = sync_all(client)
    assert client.delete(f"/api/issues/{gone.pk}").status_code == 204
    wait_for_standby()
    served, _, _ = sync_all(client, token, include_deleted="true")
    assert [(row["id"], row["active"]) for row in served] == [(gone.pk, False)]
    # Without include_deleted a delete is not served (the copy cannot learn of it).
    assert sync_all(client, plain_token)[0] == []
    # A token is bound to its listing: with or without deleted rows.
    response = client.get("/api/issues", {"sync": token})
    assert response.status_code == 400 and "sync" in response.json()
    # Filters are refused: a row that stopped matching would never be served again.
    for name, value in (("status_name", "Done"), ("created_at_after", "2020-01-01")):
        response = client.get("/api/issues", {"sync": "", name: value})
        assert response.status_code == 400 and name in response.json()
    # Former members' accounts are for those who manage users.
    assert api(user_a).get("/api/users", {"include_deleted": "true"}).status_code == 403
    assert client.get("/api/users", {"include_deleted": "true"}).status_code == 200


def test_forged_and_foreign_tokens_are_400s(api, admin_a, tenant_a):
    from core.api.cursors import Cursor, cursor_encode, query_fingerprint
    from core.api.pagination import SYNC_ORDERING
    from core.changes import cluster_id

    IssueFactory(client=tenant_a)
    wait_for_standby()
    client = api(admin_a)

    def forged(values) -> str:
        params = QueryDict(mutable=True)
        params.update({"sync": "", "limit": "3"})
        fingerprint = query_fingerprint(
            params, listing=f"sync:issues:{tenant_a.pk}:{cluster_id('default')}"
        )
        if all(type(v) is int and abs(v) < 2**63 for v in values):
            return cursor_encode(Cursor(SYNC_ORDERING, values, 0, fingerprint))
        # Values the server never writes: the same document, written by hand.
        document = {"o": SYNC_ORDERING, "v": values, "p": 0, "f": fingerprint}
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    assert client.get("/api/issues", {"sync": forged((0, 0)), "limit": 3}).status_code == 200
    for values in (
        (None, None),
        (None, 5),
        (2**62, 1),  # ids not handed out yet
        (2**70, 1),
        ("849", 6),
        (849.5, 6),
        (True, 6),
        (1, -(2**64)),
    ):
        response = client.get("/api/issues", {"sync": forged(values), "limit": 3})
        assert response.status_code == 400 and "sync" in response.json(), values


def test_sync_pages_envelope_and_refusals(api, admin_a, tenant_a):
    client = api(admin_a)
    for _ in range(5):
        IssueFactory(client=tenant_a)
    wait_for_standby()
    _, _, pages = sync_all(client)
    assert [page["count"] for page in pages] == [3, 2]
    assert [page["offset"] for page in pages] == [0, 3]
    assert [page["more"] for page in pages] == [True, False]
    assert all(page["total_count"] == 5 for page in pages)
    for query in ({"ordering": "key"}, {"cursor": ""}, {"offset": "1"}):
        response = client.get("/api/issues", {"sync": "", **query})
        assert response.status_code == 400 and next(iter(query)) in response.json()
    for token in ("x", "eyJ9", "!!", "a" * 300):
        response = client.get("/api/issues", {"sync": token})
        assert response.status_code == 400 and "sync" in response.json()
    # A token of another client's listing (even with the same filters) is refused.
    assert client.get(
        "/api/issues", {"sync": pages[-1]["next_sync"], "client_id": 1}
    ).status_code in (
        400,
        403,
    )
