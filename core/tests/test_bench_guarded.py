"""The bench's guarded floor (``bench/guarded.py``) answers the endpoint's page, with its ETag,
and goes through the guarantees it claims to: the token check, the rate limit, the request log."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import override_settings
from rest_framework.exceptions import AuthenticationFailed

from bench.guarded import PATH, GuardedFloor
from bench.timing import wsgi_get
from core.handlers import ApiWSGIHandler
from core.testing import wait_for_standby
from issues.tests.factories import IssueFactory
from users.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_the_guarded_floor_answers_the_endpoints_page_and_etag(viewer_a, tenant_a, tenant_b):
    for _ in range(4):
        IssueFactory(client=tenant_a)
    IssueFactory(client=tenant_b)
    token = ApiToken.issue(user=viewer_a, name="guarded")[1]
    wait_for_standby()
    handler = ApiWSGIHandler()
    headers = []
    status, body = wsgi_get(handler, "/api/issues", {"limit": 3}, token)
    assert status == 200
    environ = {"HTTP_AUTHORIZATION": f"Bearer {token}", "QUERY_STRING": "limit=3"}
    guarded = b"".join(GuardedFloor().wsgi(environ, lambda line, sent: headers.append(sent)))
    assert guarded == body and b'"total_count":4' in body
    etag = dict(headers[0])["ETag"]
    unchanged, _ = wsgi_get(
        handler, "/api/issues", {"limit": 3}, token, {"HTTP_IF_NONE_MATCH": etag}
    )
    assert unchanged == 304


def test_the_guarded_floor_refuses_a_revoked_token(viewer_a):
    key = ApiToken.issue(user=viewer_a, name="guarded")[1]
    floor = GuardedFloor()
    floor.page(f"Bearer {key}", 1)
    ApiToken.objects.filter(user=viewer_a).delete()  # the signal moves the token epoch
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        floor.page(f"Bearer {key}", 1)


@override_settings(API_THROTTLE_USER="2/minute")
def test_the_guarded_floor_counts_the_rate_limit_and_logs_its_own_path(viewer_a, caplog):
    caches["throttle"].clear()
    key = ApiToken.issue(user=viewer_a, name="guarded")[1]
    floor = GuardedFloor()
    with caplog.at_level(logging.INFO, logger="health.request_log"):
        floor.page(f"Bearer {key}", 1)
        floor.page(f"Bearer {key}", 1)
    with pytest.raises(RuntimeError, match="rate limited"):
        floor.page(f"Bearer {key}", 1)
    logged = [r.request_fields for r in caplog.records if r.name == "health.request_log"]
    assert [fields["path"] for fields in logged] == [PATH, PATH]
    assert {fields["user_id"] for fields in logged} == {viewer_a.pk}
