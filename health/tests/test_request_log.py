"""One log line per request (JSON or text, as LOG_FORMAT says), with the request's id."""

from __future__ import annotations

import json
import logging
import re
import socket

import pytest
from django.conf import settings as django_settings
from django.test import Client as HttpClient

from core import redis_cache, shared_cache
from core.logs import JsonFormatter, TextFormatter
from core.testing import wait_for_standby
from health.request_log import logger as request_logger
from users.models import User
from users.services import api_user_create
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def line(record: logging.LogRecord) -> dict:
    """The record as the JSON formatter writes it."""
    return json.loads(JsonFormatter().format(record))


@pytest.fixture
def request_log(caplog):
    """The request log's records (its logger does not propagate to the root logger)."""
    request_logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger=request_logger.name)
    yield lambda: [r for r in caplog.records if r.name == request_logger.name]
    request_logger.removeHandler(caplog.handler)


def test_the_middleware_comes_first_so_every_answer_is_logged():
    assert django_settings.MIDDLEWARE[0] == "health.request_log.RequestLogMiddleware"


def test_answers_of_the_guards_before_any_view_are_logged_once(client, request_log, settings):
    """A 413 before the body is read, a 415 for a compressed body: one line each."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    client.post("/api/issues", data="x" * 100, content_type="application/json")
    client.post(
        "/api/issues",
        data="{}",
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert [line(r)["status"] for r in request_log()] == [413, 415]


def test_a_path_cannot_forge_a_second_text_log_line(client, request_log):
    client.get("/api/issues%0a2026-12-03T00:00:00Z%20GET%20/fake%20200%200.1ms%20client=9")
    [record] = request_log()
    text = TextFormatter().format(record)
    assert "\n" not in text and "\\x0a" in text


def test_json_line_with_method_path_status_duration_and_serving_alias(request_log):
    HttpClient().get("/health/database?verbose=1")  # a probe: no one signed in
    [record] = request_log()
    fields = line(record)
    assert fields["method"] == "GET"
    assert fields["path"] == "/health/database"
    assert fields["status"] == 200
    assert fields["duration_ms"] > 0
    assert fields["client_id"] is None
    assert fields["db_read_aliases"] == ["replica"]
    assert fields["db_wrote"] is False
    assert (fields["level"], fields["logger"]) == ("INFO", "health.request_log")
    assert fields["message"] == "GET /health/database 200"
    assert record.levelno == logging.INFO


def test_authenticated_caller_is_logged_with_its_client(client, request_log):
    user, key, _ = api_user_create(client_name="Logged", email="logged@example.com")
    response = client.get("/api/schema/", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    [record] = request_log()
    assert line(record)["client_id"] == user.client_id


def test_text_lines_for_a_developer(client, request_log):
    client.get("/health")
    [record] = request_log()
    text = TextFormatter().format(record)
    assert re.fullmatch(r"\S+ GET /health 200 [\d.]+ms client=- db_reads=-", text), text


def test_server_errors_are_logged_as_errors(client, request_log, monkeypatch):
    # A broken report query: no server can answer the report, which is then a 503.
    monkeypatch.setattr("health.checks.ML_TABLES_SQL", "SELECT no_such_column")
    response = client.get("/health/database")
    assert response.status_code == 503
    [record] = request_log()
    assert record.levelno == logging.ERROR
    assert line(record)["status"] == 503


def test_session_user_is_logged_only_when_the_view_looked_at_it(client, request_log):
    admin = User.objects.create_superuser(email="ops@example.com", password="x" * 12)
    wait_for_standby()  # the admin page loads the session's user from the standby
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/health").status_code == 200
    admin_page, probe = (line(record) for record in request_log())
    assert admin_page["client_id"] == admin.client_id
    # The probe never loaded the session's user: logging must not load it either.
    assert probe["client_id"] is None
    assert probe["db_read_aliases"] == []


def test_one_line_per_request_for_client_errors(api, user_a, caplog):
    """A 4xx is the request log's line only: no echo from Django, no traceback."""
    from django.test import Client as Browser

    caplog.set_level(logging.DEBUG)
    staff = UserFactory(client=user_a.client, is_staff=True)  # staff, but no admin permission
    browser = Browser()
    browser.force_login(staff)
    caplog.clear()
    answers = [
        api(user_a).get("/api/issues/999999999"),  # 404
        api(user_a).get("/api/issues?limit=0"),  # 400
        api().get("/api/issues"),  # 401
        browser.get("/admin/issues/issue/"),  # 403 in the admin
    ]
    assert [answer.status_code for answer in answers] == [404, 400, 401, 403]
    noisy = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "health.request_log"
    ]
    assert noisy == [], [(r.name, r.getMessage()) for r in noisy]
    assert not [r for r in caplog.records if r.exc_info]
    lines = [r for r in caplog.records if r.name == "health.request_log"]
    assert len(lines) == len(answers)


@pytest.fixture
def failing_shared_cache(settings):
    """The shared cache on Redis at an address that fails it: ``refused`` (nothing listens) or
    ``silent`` (a socket that accepts connections and never answers, as a frozen Redis does)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    original = settings.CACHES

    def fail(how: str) -> None:
        if how == "silent":
            listener.listen(16)  # the kernel completes connections; no one ever reads them
        backend = {"BACKEND": django_settings.SHARED_REDIS_CACHE}
        url = f"redis://127.0.0.1:{port}/0"
        settings.CACHES = {
            "default": {**backend, "LOCATION": url},
            "throttle": {**backend, "LOCATION": url, "KEY_PREFIX": "throttle"},
        }

    try:
        yield fail
    finally:
        settings.CACHES = original
        listener.close()
        redis_cache.reset()
        shared_cache.reset()


@pytest.mark.parametrize("how", ["refused", "silent"])
def test_a_failing_shared_cache_costs_a_request_one_call_and_the_breaker_answers_the_rest(
    client, request_log, failing_shared_cache, how
):
    _, key, _ = api_user_create(client_name="Cacheless", email="cacheless@example.com")
    failing_shared_cache(how)
    headers = {"Authorization": f"Bearer {key}"}
    # Token, read-your-writes position, rate limit: each asks the cache; only the first waits.
    assert client.get("/api/issues", headers=headers).status_code == 200
    assert (
        client.post(
            "/api/issues",
            {"key": "C-1", "summary": "s"},
            content_type="application/json",
            headers=headers,
        ).status_code
        == 201
    )
    first, write = (line(record) for record in request_log())
    assert (first["cache_failures"], write["cache_failures"]) == (1, 0)
    if how == "silent":  # the call waited its socket timeout, once
        assert first["cache_wait_ms"] >= 0.9 * django_settings.CACHE_SOCKET_TIMEOUT * 1000
    assert write["cache_wait_ms"] == 0
    text = TextFormatter().format(request_log()[0])
    assert text.endswith(f" cache_failures=1 cache_wait={first['cache_wait_ms']}ms"), text
