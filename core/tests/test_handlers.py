"""The served application's two middleware chains (core.handlers) and its ETag digest."""

from __future__ import annotations

import asyncio
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
from core.handlers import ApiASGIHandler, ApiWSGIHandler, api_middleware
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


def test_the_api_chain_keeps_every_guard_in_order(settings):
    names = api_middleware()
    assert "django.contrib.messages.middleware.MessageMiddleware" not in names
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in names
    guards = [
        "health.request_log.RequestLogMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "core.middleware.ConditionalGetMiddleware",
        "core.middleware.RequestSizeLimitMiddleware",
        "core.middleware.RateLimitHeadersMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "users.middleware.AuthenticationMiddleware",
        "core.db.middleware.DatabaseRoutingMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    assert [name for name in names if name in guards] == guards
    # The same relative order as the full chain.
    positions = [settings.MIDDLEWARE.index(name) for name in names]
    assert positions == sorted(positions)


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


def test_get_answers_carry_the_sha256_etag_of_their_body(api, admin_a):
    answer = api(admin_a).get("/api/issues")
    assert answer.status_code == 200
    assert answer["ETag"] == quote_etag(hashlib.sha256(answer.content).hexdigest())
    again = api(admin_a).get("/api/issues", HTTP_IF_NONE_MATCH=answer["ETag"])
    assert again.status_code == 304


def test_a_gunicorn_worker_has_its_collector_tuned(tmp_path):
    """gunicorn.conf.py's post_worker_init, as gunicorn runs it once a worker loaded the
    application; importing the application alone (tests, commands) leaves the defaults."""
    probe = (
        "import gc, runpy\n"
        "import config.wsgi\n"
        "assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() < 10_000\n"
        "hooks = runpy.run_path('gunicorn.conf.py')\n"
        "hooks['post_worker_init'](None)\n"
        "from config.startup import YOUNG_THRESHOLD\n"
        "assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10), gc.get_threshold()\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
        "print('tuned')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        },
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
        etag = quote_etag(hashlib.sha256(body).hexdigest())
        unchanged, _ = wsgi_get(
            handler, "/api/issues", {"limit": 5}, token, {"HTTP_IF_NONE_MATCH": etag}
        )
        gc.collect()
        items = [o for o in gc.garbage if isinstance(o, dict) and "summary" in o]
        responses = [o for o in gc.garbage if isinstance(o, HttpResponseBase)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert status == 200 and b"summary" in body and unchanged == 304
    assert items == [] and responses == []


@override_settings(ROOT_URLCONF=__name__)
def test_the_asgi_handler_picks_the_chain_by_path_too():
    handler = ApiASGIHandler()

    async def get(path: str) -> bytes:
        sent, requests, done = [], [], asyncio.Event()

        async def receive():
            if not requests:
                requests.append(path)
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client goes once it has the whole answer
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
        }  # fmt: skip
        await handler(scope, receive, send)
        assert sent[0]["status"] == 200, sent[0]
        return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    assert b'"messages":false' in asyncio.run(get("/api/probe")).replace(b" ", b"")
    assert b'"messages":true' in asyncio.run(get("/probe")).replace(b" ", b"")
