"""The served application's two middleware chains (core.handlers) and its ETag digest."""

from __future__ import annotations

import gc
import hashlib
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseBase, JsonResponse
from django.test import RequestFactory, override_settings
from django.urls import path
from django.utils.http import quote_etag

from bench.timing import wsgi_get
from core.handlers import ApiWSGIHandler, api_middleware
from core.testing import wait_for_standby
from issues.tests.factories import IssueFactory
from users.models import ApiToken

pytestmark = pytest.mark.django_db


def ran(request):
    """Whether the message middleware (admin-only) saw the request."""
    return JsonResponse({"messages": hasattr(request, "_messages")})


urlpatterns = [path("api/probe", ran), path("probe", ran), path("probe/admin", ran)]


@override_settings(ROOT_URLCONF=__name__)
def test_api_requests_skip_the_admin_only_middleware_and_others_do_not():
    handler = ApiWSGIHandler()
    status, body = wsgi_get(handler, "/api/probe")
    assert status == 200 and b'"messages":false' in body.replace(b" ", b"")
    for other in ("/probe", "/probe/admin"):
        status, body = wsgi_get(handler, other)
        assert status == 200 and b'"messages":true' in body.replace(b" ", b""), other


@override_settings(ROOT_URLCONF=__name__)
def test_api_answers_say_their_length():
    """Without Content-Length, gunicorn would send the body in chunks (more writes)."""
    handler = ApiWSGIHandler()
    sent = {}

    def start_response(status, headers, exc_info=None):
        sent.update(headers)

    environ = RequestFactory().get("/api/probe").environ
    body = b"".join(handler(environ, start_response))
    assert sent["Content-Length"] == str(len(body))


def test_the_api_chain_is_the_full_one_without_the_admin_only_entries(settings):
    names = api_middleware()
    assert not set(settings.ADMIN_ONLY_MIDDLEWARE) & set(names)
    # Same order, nothing else left out.
    kept = [name for name in settings.MIDDLEWARE if name not in settings.ADMIN_ONLY_MIDDLEWARE]
    assert names == kept and len(names) == len(settings.MIDDLEWARE) - 2


@pytest.mark.parametrize(
    "entry",
    [
        "django.middleware.csrf.CsrfViewMiddleware",  # process_view
        "django.contrib.sessions.middleware.SessionMiddleware",  # none: accepted
    ],
)
def test_an_admin_only_entry_with_a_view_hook_is_refused(entry):
    with override_settings(ADMIN_ONLY_MIDDLEWARE=[entry]):
        if entry.endswith("CsrfViewMiddleware"):
            with pytest.raises(ImproperlyConfigured, match="process_view"):
                ApiWSGIHandler()
        else:
            assert entry not in api_middleware()


def test_get_answers_carry_the_sha1_etag_of_their_body(api, admin_a):
    answer = api(admin_a).get("/api/issues")
    assert answer.status_code == 200
    assert answer["ETag"] == quote_etag(hashlib.sha1(answer.content).hexdigest())
    again = api(admin_a).get("/api/issues", HTTP_IF_NONE_MATCH=answer["ETag"])
    assert again.status_code == 304


def test_a_served_process_has_its_collector_tuned():
    """What gunicorn loads (config.wsgi): the start-up objects frozen, young collections rarer."""
    probe = (
        "import gc, config.wsgi\n"
        "from config.startup import YOUNG_THRESHOLD\n"
        "assert type(config.wsgi.application.app).__name__ == 'ApiWSGIHandler'\n"
        "assert gc.get_threshold()[0] == YOUNG_THRESHOLD, gc.get_threshold()\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
        "print('tuned')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "tuned", done.stderr[-2000:]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_list_page_leaves_no_cyclic_garbage_behind(admin_a, tenant_a):
    """A page's items are freed when the answer is sent, not by the cyclic collector."""
    for _ in range(5):
        IssueFactory(client=tenant_a)
    token = ApiToken.issue(user=admin_a, name="garbage")[1]
    wait_for_standby()
    handler = ApiWSGIHandler()
    status, _ = wsgi_get(handler, "/api/issues", {"limit": 5}, token)
    assert status == 200
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        status, body = wsgi_get(handler, "/api/issues", {"limit": 5}, token)
        gc.collect()
        items = [o for o in gc.garbage if isinstance(o, dict) and "summary" in o]
        responses = [o for o in gc.garbage if isinstance(o, HttpResponseBase)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert status == 200 and b"summary" in body
    assert items == [] and responses == []
