"""Compression: JSON answers for clients that accept gzip, with an ETag of their own."""

from __future__ import annotations

import gzip

import orjson
import pytest

from core.middleware import COMPRESS_MIN_BYTES
from core.testing import wait_for_standby
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issues(tenant_a):
    return [IssueFactory(client=tenant_a) for _ in range(30)]


def test_lists_are_compressed_for_clients_that_accept_gzip(api, admin_a, issues):
    client = api(admin_a)
    plain = client.get("/api/issues")
    assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
    packed = client.get("/api/issues", HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")
    assert packed["Content-Encoding"] == "gzip"
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content) / 3
    assert orjson.loads(gzip.decompress(packed.content)) == plain.json()
    for refused in ("gzip;q=0", "identity", "br", ""):
        answer = client.get("/api/issues", HTTP_ACCEPT_ENCODING=refused)
        assert "Content-Encoding" not in answer, refused


def test_small_answers_and_html_are_not_compressed(api, admin_a, issues):
    client = api(admin_a)
    small = client.get(f"/api/issues/{issues[0].pk}", {"fields": "id"}, HTTP_ACCEPT_ENCODING="gzip")
    assert len(small.content) < COMPRESS_MIN_BYTES and "Content-Encoding" not in small
    page = client.get("/admin/login/", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in page


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_compressed_item_keeps_a_strong_etag_that_if_match_takes(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a, description="Steps to reproduce. " * 100)
    wait_for_standby()  # written outside any request: nobody's pin covers it
    client = api(admin_a)
    plain = client.get(f"/api/issues/{issue.pk}")
    packed = client.get(f"/api/issues/{issue.pk}", HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert packed["ETag"] == plain["ETag"][:-1] + '.gz"'  # strong, and another representation
    assert (
        client.get(
            f"/api/issues/{issue.pk}",
            HTTP_ACCEPT_ENCODING="gzip",
            HTTP_IF_NONE_MATCH=packed["ETag"],
        ).status_code
        == 304
    )
    changed = client.patch(
        f"/api/issues/{issue.pk}", {"priority": "High"}, format="json", HTTP_IF_MATCH=packed["ETag"]
    )
    assert changed.status_code == 200


def test_list_pages_have_an_etag_per_encoding(api, admin_a, issues):
    client = api(admin_a)
    plain = client.get("/api/issues")["ETag"]
    packed = client.get("/api/issues", HTTP_ACCEPT_ENCODING="gzip")["ETag"]
    assert packed != plain and not packed.startswith("W/")
    again = client.get("/api/issues", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed)
    assert again.status_code == 304
