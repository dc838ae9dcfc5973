"""Cursor pages: the same rows as offset pages, at any depth, in any ordering; bad cursors 400."""

from __future__ import annotations

import base64

import pytest

from issues.tests.factories import IssueFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def walk(client, params: dict) -> list[dict]:
    """Every page of a cursor listing, checking each envelope on the way."""
    rows, cursor, pages = [], "", 0
    while cursor is not None:
        response = client.get("/api/issues", {**params, "cursor": cursor})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["offset"] == len(rows)
        assert body["count"] == len(body["issues"])
        rows += body["issues"]
        cursor = body["next_cursor"]
        pages += 1
        assert pages < 100
    assert body["total_count"] == len(rows)
    return rows


@pytest.fixture
def issues(tenant_a):
    made = []
    for n in range(23):
        # Ties and NULLs in the ordering columns, so that every branch of the keyset is used.
        made.append(
            IssueFactory(
                client=tenant_a,
                key=f"K-{n % 7}-{n}",
                priority=None if n % 4 == 0 else ("High", "Low")[n % 2],
                story_points=None if n % 3 == 0 else float(n % 5),
            )
        )
    IssueFactory(client=tenant_a, active=False)
    return made


@pytest.mark.parametrize(
    "ordering",
    [
        None,
        "key",
        "-key",
        "priority",
        "-priority",
        "story_points,-created_at",
        "-story_points",
        "id,key",
        "-priority,-id,key",
    ],
)
def test_cursor_pages_equal_the_offset_listing(api, admin_a, issues, ordering):
    client = api(admin_a)
    params = {"limit": 5} | ({"ordering": ordering} if ordering else {})
    by_cursor = walk(client, params)
    by_offset = client.get("/api/issues", {**params, "limit": 1000}).json()["issues"]
    assert [row["id"] for row in by_cursor] == [row["id"] for row in by_offset]
    assert len(by_cursor) == len(issues)


def test_cursor_listing_respects_filters(api, admin_a, issues):
    rows = walk(api(admin_a), {"limit": 3, "priority": "High"})
    assert rows and {row["priority"] for row in rows} == {"High"}


def test_next_cursor_only_in_cursor_listings(api, admin_a, issues):
    client = api(admin_a)
    assert "next_cursor" not in client.get("/api/issues", {"limit": 5}).json()
    last = client.get("/api/issues", {"limit": 100, "cursor": ""}).json()
    assert last["next_cursor"] is None and last["count"] == len(issues)


def test_rows_added_meanwhile_do_not_shift_a_cursor_listing(api, admin_a, tenant_a, issues):
    client = api(admin_a)
    first = client.get("/api/issues", {"limit": 10, "cursor": ""}).json()
    IssueFactory(client=tenant_a)  # newest: lands before the cursor, not in the next page
    second = client.get("/api/issues", {"limit": 10, "cursor": first["next_cursor"]}).json()
    seen = {row["id"] for row in first["issues"]}
    assert not seen & {row["id"] for row in second["issues"]}


@pytest.mark.parametrize(
    "token",
    [
        "not base64 !",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"o": ["-created_at", "-id"], "v": ["x", 1], "p": 0, "f": ""}')
        .decode()
        .rstrip("="),
    ],
)
def test_a_malformed_cursor_is_400_naming_it(api, admin_a, token):
    response = api(admin_a).get("/api/issues", {"cursor": token})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_cursor_of_another_listing_is_400(api, admin_a, issues):
    client = api(admin_a)
    token = client.get("/api/issues", {"limit": 5, "cursor": ""}).json()["next_cursor"]
    for other in ({"ordering": "key"}, {"priority": "High"}):
        response = client.get("/api/issues", {"limit": 5, "cursor": token, **other})
        assert response.status_code == 400 and "cursor" in response.json()


def test_offset_with_a_cursor_skips_rows_after_it(api, admin_a, issues):
    client = api(admin_a)
    everything = [row["id"] for row in client.get("/api/issues", {"limit": 1000}).json()["issues"]]
    first = client.get("/api/issues", {"limit": 5, "cursor": ""}).json()
    body = client.get(
        "/api/issues", {"limit": 5, "cursor": first["next_cursor"], "offset": 2}
    ).json()
    assert [row["id"] for row in body["issues"]] == everything[7:12]
    assert body["offset"] == 7


def test_a_cursor_of_another_client_or_list_is_400(api, admin_a, tenant_b, issues):
    """A cursor belongs to one list of one client: elsewhere it is refused, not read as an
    empty or shifted page."""
    token = api(admin_a).get("/api/issues", {"limit": 5, "cursor": ""}).json()["next_cursor"]
    theirs = UserFactory(client=tenant_b, role="admin")
    IssueFactory(client=tenant_b)
    response = api(theirs).get("/api/issues", {"limit": 5, "cursor": token})
    assert response.status_code == 400 and "cursor" in response.json()
    # The same ordering on another resource of the same client.
    for other in ("/api/projects", "/api/pull-requests", "/api/users"):
        response = api(admin_a).get(other, {"limit": 5, "cursor": token})
        assert response.status_code == 400 and "cursor" in response.json(), other
