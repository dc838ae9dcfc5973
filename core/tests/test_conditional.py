"""Conditional requests: ETag and Last-Modified, If-None-Match (304), If-Match (412)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from core.testing import wait_for_standby
from issues.tests.factories import IssueFactory
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_items_carry_their_version_and_a_304_for_it(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a)
    client = api(admin_a)
    first = client.get(f"/api/issues/{issue.pk}")
    tag = first["ETag"]
    assert tag.startswith(f'"{issue.pk}.') and tag.endswith('"') and first["Last-Modified"]
    again = client.get(f"/api/issues/{issue.pk}", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b""
    ml = client.get(f"/api/issues/{issue.pk}", {"include_ml_fields": "true"})
    assert ml["ETag"] != tag  # another representation, another strong tag
    since = client.get(f"/api/issues/{issue.pk}", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    assert client.get(f"/api/issues/{issue.pk}", HTTP_IF_NONE_MATCH='"1.1"').status_code == 200


def test_list_pages_carry_an_etag_of_their_body(api, admin_a, tenant_a):
    IssueFactory(client=tenant_a)
    client = api(admin_a)
    page = client.get("/api/issues")
    assert page["ETag"].startswith('"')
    assert client.get("/api/issues", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    IssueFactory(client=tenant_a)
    assert client.get("/api/issues", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 200


# Each request its own transaction, as in production (a version is the writing transaction).
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_if_match_applies_a_change_to_the_version_read_only(api, admin_a, tenant_a):
    issue = IssueFactory(client=tenant_a, priority="Low")
    wait_for_standby()  # written outside any request: nobody's pin covers it
    client = api(admin_a)
    tag = client.get(f"/api/issues/{issue.pk}")["ETag"]
    stale = client.patch(
        f"/api/issues/{issue.pk}", {"priority": "High"}, format="json", HTTP_IF_MATCH='"bogus"'
    )
    assert stale.status_code == 412 and "If-Match" in stale.json()["detail"]
    issue.refresh_from_db()
    assert issue.priority == "Low"
    changed = client.patch(
        f"/api/issues/{issue.pk}", {"priority": "High"}, format="json", HTTP_IF_MATCH=tag
    )
    assert changed.status_code == 200 and changed["ETag"] != tag
    assert client.get(f"/api/issues/{issue.pk}")["ETag"] == changed["ETag"]
    # The version read before the change is stale now, for a change or a delete.
    again = client.put(
        f"/api/issues/{issue.pk}", {"priority": "Low"}, format="json", HTTP_IF_MATCH=tag
    )
    assert again.status_code == 412
    assert client.delete(f"/api/issues/{issue.pk}", HTTP_IF_MATCH=tag).status_code == 412
    weak = client.delete(f"/api/issues/{issue.pk}", HTTP_IF_MATCH=f"W/{changed['ETag']}")
    assert weak.status_code == 412  # weak tags never match
    listed = f'"x", {changed["ETag"]}'
    assert client.delete(f"/api/issues/{issue.pk}", HTTP_IF_MATCH=listed).status_code == 204


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize("header", ["bogus", '"a" "b"', '"a",,', "W/", '"unterminated'])
def test_a_malformed_if_match_is_a_400_naming_it(api, admin_a, tenant_a, header):
    project = ProjectFactory(client=tenant_a)
    response = api(admin_a).patch(
        f"/api/projects/{project.pk}", {"name": "n"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 400 and "If-Match" in response.json()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_if_match_star_and_the_embedding(api, admin_a, tenant_a):
    from core.tests.schema_operations import VECTOR

    project = ProjectFactory(client=tenant_a)
    client = api(admin_a)
    assert (
        client.patch(
            f"/api/projects/{project.pk}", {"name": "n"}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )
    stale = client.put(
        f"/api/projects/{project.pk}/embedding",
        {"embedding": VECTOR},
        format="json",
        HTTP_IF_MATCH='"0.0"',
    )
    assert stale.status_code == 412


def _edit(api, user, path: str, tag: str, value: str, start, answers: list) -> None:
    try:
        client = api(user)
        start.wait()
        answers.append(
            client.patch(path, {"summary": value}, format="json", HTTP_IF_MATCH=tag).status_code
        )
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_two_concurrent_editors_of_one_version(api, admin_a, tenant_a):
    for round_ in range(5):
        issue = IssueFactory(client=tenant_a, key=f"EDIT-{round_}")
        wait_for_standby()
        path = f"/api/issues/{issue.pk}"
        tag = api(admin_a).get(path)["ETag"]
        answers: list[int] = []
        start = threading.Barrier(2)
        editors = [
            threading.Thread(target=_edit, args=(api, admin_a, path, tag, value, start, answers))
            for value in ("by one", "by other")
        ]
        for editor in editors:
            editor.start()
        for editor in editors:
            editor.join()
        assert sorted(answers) == [200, 412]
