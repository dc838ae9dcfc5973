"""Races between requests on one row, over real HTTP: of two changes, the second sees the first.

Several clients change the same row at the same moment (a barrier releases them together). A row
being changed is locked for its transaction, so exactly one soft delete succeeds (the others
find no row: 404), and no change lands on a row that was deleted under it.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial

import pytest

from core.drills import call
from core.models import TenantModel
from core.tests.schema_operations import VECTOR, factory_for, make_row, model_for, operations
from issues.models import Issue
from issues.tests.factories import IssueFactory
from users.models import ApiToken
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ROUNDS = 5
CLIENTS = 6


def together(requests) -> list:
    """Run the callables at the same moment, each in its own thread; their results, in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = requests[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def tokens(tenant, count: int, role: str = "user") -> list[str]:
    return [ApiToken.issue(user=UserFactory(client=tenant, role=role))[1] for _ in range(count)]


# Rows of a client (a user's own tokens race below).
ROW_DELETES = [
    operation
    for operation in operations()
    if operation.method == "DELETE"
    and operation.path.endswith("{id}/")
    and issubclass(model_for(operation.path), TenantModel)
]


@pytest.mark.parametrize("operation", ROW_DELETES, ids=str)
def test_of_concurrent_deletes_of_one_row_exactly_one_succeeds(live_server, tenant_a, operation):
    keys = tokens(tenant_a, CLIENTS, role="admin")  # admins may delete every kind of row
    outcomes = Counter()
    for _ in range(ROUNDS):
        row = make_row(factory_for(operation.path), tenant_a)
        path = operation.path.replace("{id}", str(row.pk))
        results = together([partial(call, live_server.url, key, "DELETE", path) for key in keys])
        statuses = Counter(result.status for result in results)
        assert statuses == {204: 1, 404: CLIENTS - 1}, statuses
        outcomes.update(statuses)
    print(f"\nrace {operation}: {ROUNDS} rounds x {CLIENTS} clients, {dict(outcomes)}")


def test_of_concurrent_revocations_of_one_token_exactly_one_succeeds(live_server, tenant_a):
    holder = UserFactory(client=tenant_a)
    keys = [ApiToken.issue(user=holder)[1] for _ in range(CLIENTS)]
    for _ in range(ROUNDS):
        token, _ = ApiToken.issue(user=holder, name="revoked")
        path = f"/api/auth/tokens/{token.pk}"
        results = together([partial(call, live_server.url, key, "DELETE", path) for key in keys])
        statuses = Counter(result.status for result in results)
        assert statuses == {204: 1, 404: CLIENTS - 1}, statuses


def test_a_change_racing_a_delete_never_lands_on_the_deleted_row(live_server, tenant_a):
    keys = tokens(tenant_a, 4)
    for _ in range(ROUNDS):
        issue = IssueFactory(client=tenant_a, summary="before")
        path = f"/api/issues/{issue.pk}"
        results = together(
            [
                partial(call, live_server.url, keys[0], "DELETE", path),
                partial(call, live_server.url, keys[1], "PATCH", path, {"summary": "after"}),
                partial(
                    call,
                    live_server.url,
                    keys[2],
                    "PUT",
                    f"{path}/embedding",
                    {"embedding": VECTOR},
                ),
                partial(call, live_server.url, keys[3], "DELETE", path),
            ]
        )
        deleted, patched, embedded, deleted_again = (result.status for result in results)
        assert sorted([deleted, deleted_again]) == [204, 404]
        stored = Issue.objects.using("default").get(pk=issue.pk)
        assert stored.active is False
        # A change that answered 200 was made before the delete, never after it.
        assert patched in (200, 404) and embedded in (200, 404)
        if patched == 404:
            assert stored.summary == "before"
        if embedded == 404:
            assert stored.embedding is None
