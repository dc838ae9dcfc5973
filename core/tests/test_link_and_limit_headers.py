"""Navigation and limits in headers: RFC 8288 ``Link`` on every list page, for offset, cursor and
sync paging alike, and ``X-RateLimit-*`` on every counted answer."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import caches

from core.testing import wait_for_standby
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<([^>]*)>; rel="([a-z]+)"')


def links(response) -> dict[str, str]:
    """rel -> path?query of the Link header."""
    found = {}
    for url, rel in LINK.findall(response["Link"]):
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.netloc  # absolute, as RFC 8288 clients expect
        found[rel] = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return found


def follow(client, path: str) -> list[int]:
    """Every row of a listing, by its next links."""
    seen = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.content
        seen += [row["id"] for row in response.json()["issues"]]
        path = links(response).get("next")
    return seen


@pytest.fixture
def five_issues(tenant_a):
    return [
        IssueFactory(client=tenant_a, status_name="Done" if n % 2 else "To Do") for n in range(5)
    ]


def test_offset_pages_link_first_prev_and_next(api, admin_a, five_issues):
    client = api(admin_a)
    first = links(client.get("/api/issues?limit=2"))
    assert set(first) == {"first", "next"}
    assert parse_qs(urlsplit(first["next"]).query) == {"limit": ["2"], "offset": ["2"]}
    middle = links(client.get("/api/issues?limit=2&offset=2"))
    assert set(middle) == {"first", "prev", "next"}
    assert "offset" not in parse_qs(urlsplit(middle["prev"]).query)
    last = links(client.get("/api/issues?limit=2&offset=4"))
    assert set(last) == {"first", "prev"}
    assert parse_qs(urlsplit(last["prev"]).query)["offset"] == ["2"]
    assert sorted(follow(client, "/api/issues?limit=2")) == sorted(i.pk for i in five_issues)


def test_links_keep_the_filters_repeated_ones_included(api, admin_a, five_issues):
    client = api(admin_a)
    path = "/api/issues?limit=1&status_name=Done&status_name=Blocked"
    following = links(client.get(path))["next"]
    assert parse_qs(urlsplit(following).query)["status_name"] == ["Done", "Blocked"]
    done = [i.pk for i in five_issues if i.status_name == "Done"]
    assert sorted(follow(client, path)) == sorted(done)


def test_cursor_and_sync_pages_link_their_next_page(api, admin_a, five_issues):
    client = api(admin_a)
    everything = sorted(i.pk for i in five_issues)
    assert sorted(follow(client, "/api/issues?limit=2&cursor=")) == everything
    page = client.get("/api/issues?limit=2&cursor=")
    assert "prev" not in links(page)
    assert parse_qs(urlsplit(links(page)["first"]).query, keep_blank_values=True)["cursor"] == [""]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_sync_pages_link_their_next_page(api, admin_a, five_issues):
    # Committed (a sync page holds back the rows of transactions still open).
    wait_for_standby()
    client = api(admin_a)
    assert sorted(follow(client, "/api/issues?limit=2&sync=")) == sorted(i.pk for i in five_issues)
    last = client.get("/api/issues?limit=10&sync=")
    assert set(links(last)) == {"first"}  # nothing more now: keep next_sync for later


def test_rate_limit_headers_on_counted_answers(api, admin_a, settings):
    caches["throttle"].clear()
    settings.API_THROTTLE_USER = "50/minute"
    settings.API_THROTTLE_ANON = "3/minute"
    client = api(admin_a)
    first, second = client.get("/api/issues"), client.get("/api/issues/999999")
    assert first["X-RateLimit-Limit"] == second["X-RateLimit-Limit"] == "50"
    assert int(first["X-RateLimit-Remaining"]) == int(second["X-RateLimit-Remaining"]) + 1
    assert 1 <= int(first["X-RateLimit-Reset"]) <= 60
    anonymous = [api().get("/api/issues", REMOTE_ADDR="198.51.100.7") for _ in range(4)]
    assert [a.status_code for a in anonymous] == [401, 401, 401, 429]
    assert [a["X-RateLimit-Remaining"] for a in anonymous] == ["2", "1", "0", "0"]
    assert all(a["X-RateLimit-Limit"] == "3" for a in anonymous)
    assert int(anonymous[-1]["X-RateLimit-Reset"]) == int(anonymous[-1]["Retry-After"])
