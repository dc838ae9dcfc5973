"""Fault drills: real servers under load over real HTTP, with the standby or the primary pulled.

A few client threads read and write through the live server for a few seconds while a server is
stopped, delayed or restarted. Nothing answered 2xx may be lost, no read may fail because a
standby went away, and no request may hang or answer 500.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import connections

from core.db import replicas
from core.db.router import read_alias
from core.db.state import request_scope
from core.drills import Load, Outcome, call
from core.testing import standby_delay, wait_for_standby
from issues.models import Issue
from issues.tests.factories import IssueFactory
from users.models import ApiToken
from users.tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.embedded,
]


def tokens_for(users) -> list[str]:
    return [ApiToken.issue(user=user)[1] for user in users]


def test_standby_stopped_mid_load(live_server, tenant_a, settings):
    settings.REPLICA_RETRY_SECONDS = 1
    issues = [IssueFactory(client=tenant_a) for _ in range(20)]
    tokens = tokens_for(UserFactory(client=tenant_a, role="viewer") for _ in range(3))
    wait_for_standby()

    def read(index: int):
        yield "read", call(live_server.url, tokens[index], "GET", "/api/issues?limit=20")
        issue = issues[index * 5 % len(issues)]
        yield "read", call(live_server.url, tokens[index], "GET", f"/api/issues/{issue.pk}")

    embedded = settings.EMBEDDED_DB
    with Load(3, read) as load:
        time.sleep(1.5)
        embedded.stop(primary=False, standby=True)
        deadline = time.monotonic() + 10
        while not replicas.is_down("replica") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert replicas.is_down("replica"), "the lost standby was not noticed within 10 s"
        time.sleep(2)
        embedded.start(primary=False, standby=True)
        time.sleep(2)
    assert not load.errors, load.errors
    statuses = load.statuses("read")
    assert set(statuses) == {200}, statuses
    assert sum(statuses.values()) > 20
    print(f"\ndrill standby-stopped: {sum(statuses.values())} reads, statuses {dict(statuses)}")
    # Reads return to the standby once it streams again and the retry window has passed (its
    # WAL receiver reconnects within wal_retrieve_retry_interval, 5 s).
    deadline = time.monotonic() + 15
    served_by = None
    while served_by != "replica" and time.monotonic() < deadline:
        time.sleep(0.25)
        with request_scope():  # a new request, from someone who has not written
            served_by = read_alias()
    assert served_by == "replica"


def test_lagging_standby_never_serves_a_client_its_own_stale_writes(
    live_server, tenant_a, settings
):
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.REPLICA_PIN_SECONDS = 10
    tokens = tokens_for(UserFactory(client=tenant_a, role="user") for _ in range(4))
    counter = iter(range(1_000_000))

    def write_then_read(index: int):
        key = f"LAG-{index}-{next(counter)}"
        created = call(
            live_server.url, tokens[index], "POST", "/api/issues", {"key": key, "summary": "s"}
        )
        yield "write", created
        if created.status == 201:
            issue_id = created.body["id"]
            own = call(live_server.url, tokens[index], "GET", f"/api/issues/{issue_id}")
            yield "own-read", own
            listed = call(live_server.url, tokens[index], "GET", f"/api/issues?search={key}")
            yield (
                "own-read",
                Outcome("GET", 200 if listed.body and listed.body["total_count"] == 1 else 0, 0),
            )

    wait_for_standby()
    with standby_delay(3), Load(4, write_then_read) as load:
        time.sleep(6)
    assert not load.errors, load.errors
    assert set(load.statuses("write")) == {201}, load.statuses("write")
    own_reads = load.statuses("own-read")
    assert set(own_reads) == {200}, f"stale reads of own writes: {own_reads}"
    assert sum(own_reads.values()) >= 20
    writes = sum(load.statuses("write").values())
    print(f"\ndrill standby-lagging: {writes} writes, {sum(own_reads.values())} own reads, 0 stale")


def test_primary_stopped_mid_load(live_server, tenant_a, settings):
    writers = tokens_for(UserFactory(client=tenant_a, role="user") for _ in range(3))
    readers = tokens_for(UserFactory(client=tenant_a, role="viewer") for _ in range(2))
    IssueFactory(client=tenant_a, key="BEFORE-1")
    counter = iter(range(1_000_000))
    wait_for_standby()

    def work(index: int):
        if index < len(writers):
            key = f"W-{index}-{next(counter)}"
            outcome = call(
                live_server.url, writers[index], "POST", "/api/issues", {"key": key, "summary": "s"}
            )
            outcome.body = {**(outcome.body or {}), "sent_key": key}
            yield "write", outcome
        else:
            yield (
                "read",
                call(live_server.url, readers[index - len(writers)], "GET", "/api/issues?limit=5"),
            )

    embedded = settings.EMBEDDED_DB
    with Load(len(writers) + len(readers), work) as load:
        time.sleep(1.5)
        embedded.stop(primary=True, standby=False)
        time.sleep(3)
        embedded.start(primary=True, standby=False)
        time.sleep(2)
    for alias in connections:
        connections[alias].close()
    replicas.reset()

    assert not load.errors, load.errors
    writes = [outcome for kind, outcome in load.outcomes if kind == "write"]
    statuses = Counter(outcome.status for outcome in writes)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] > 0, "the primary outage was not seen by any write"
    for outcome in writes:
        if outcome.status == 503:
            assert outcome.body["detail"] and outcome.headers.get("Retry-After")
            assert outcome.seconds < settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] + 2
    assert set(load.statuses("read")) == {200}, load.statuses("read")
    acknowledged = [outcome.body["sent_key"] for outcome in writes if outcome.status == 201]
    stored = Counter(
        Issue.objects.using("default").filter(key__in=acknowledged).values_list("key", flat=True)
    )
    assert all(stored[key] == 1 for key in acknowledged), (
        "an acknowledged write was lost or doubled"
    )
    assert len(acknowledged) > 5
    reads = sum(load.statuses("read").values())
    print(f"\ndrill primary-stopped: {len(writes)} writes {dict(statuses)}, {reads} reads, "
          f"{len(acknowledged)} acknowledged all stored once")  # fmt: skip
