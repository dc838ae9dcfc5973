"""The Django admin pages of the domain models: list, search, filter, edit, in few queries."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client as BrowserClient
from django.test.utils import CaptureQueriesContext

from core.tests.factories import ClientFactory
from issues.tests.factories import IssueFactory
from projects.tests.factories import ProjectFactory
from pullrequests.tests.factories import PullRequestFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_issue(client):
    return IssueFactory(client=client, project=ProjectFactory(client=client))


def make_pull_request(client):
    return PullRequestFactory(client=client, issue=IssueFactory(client=client))


# url, a factory of one row (given a client), the text a search for that row uses
PAGES = {
    "client": ("/admin/core/client/", lambda client: ClientFactory(), "name"),
    "user": ("/admin/users/user/", lambda client: UserFactory(client=client), "email"),
    "project": ("/admin/projects/project/", lambda client: ProjectFactory(client=client), "key"),
    "issue": ("/admin/issues/issue/", make_issue, "key"),
    "pull request": ("/admin/pullrequests/pullrequest/", make_pull_request, "repository"),
}


@pytest.fixture
def browser(tenant_a) -> BrowserClient:
    operator = UserFactory(client=tenant_a, role="admin", is_staff=True, is_superuser=True)
    client = BrowserClient()
    client.force_login(operator)
    return client


@pytest.fixture(params=list(PAGES))
def page(request):
    url, factory, search_field = PAGES[request.param]
    return {"url": url, "factory": factory, "search_field": search_field}


def test_changelist_search_and_change_page(browser, page, tenant_a):
    row = page["factory"](tenant_a)
    listing = browser.get(page["url"])
    assert listing.status_code == 200
    assert row.pk in [obj.pk for obj in listing.context["cl"].result_list]
    found = browser.get(page["url"], {"q": getattr(row, page["search_field"])})
    assert row.pk in [obj.pk for obj in found.context["cl"].result_list]
    change = browser.get(f"{page['url']}{row.pk}/change/")
    assert change.status_code == 200
    # Vectors of 1536 floats are not form material.
    assert "embedding" not in change.context["adminform"].form.fields


def test_changelist_queries_do_not_grow_with_the_rows(browser, page, tenant_a):
    page["factory"](tenant_a)
    browser.get(page["url"])
    with CaptureQueriesContext(connections["default"]) as few:
        browser.get(page["url"])
    for _ in range(5):
        page["factory"](tenant_a)
    with CaptureQueriesContext(connections["default"]) as many:
        browser.get(page["url"])
    assert len(many) == len(few), [q["sql"] for q in many]


@pytest.mark.parametrize("name", [name for name in PAGES if name != "client"])
def test_filter_by_client(browser, name, tenant_a, tenant_b):
    url, factory, _ = PAGES[name]
    mine = factory(tenant_a)
    factory(tenant_b)
    listing = browser.get(url, {"client__id__exact": tenant_a.pk})
    assert listing.status_code == 200
    assert mine.pk in [obj.pk for obj in listing.context["cl"].result_list]
    assert {obj.client_id for obj in listing.context["cl"].result_list} == {tenant_a.pk}
