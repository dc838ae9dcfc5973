"""Request ids, one log format, and what the metrics count (in-process; core/tests/
test_operations.py scrapes gunicorn's workers)."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client as HttpClient
from prometheus_client import REGISTRY

from core import logs, metrics, shared_cache
from core.db import replicas
from core.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---- request ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        "0f8c2d1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f",  # a UUID
        "01HZX3Q9F8K2M4N6P8R0T2V4W6",  # a ULID
        "req-1",
        "Root=1-5759e988-bd862e3fe1be46a994272793",  # an AWS trace header's value
        "a" * 128,
        "trace:span/7+x@host",
    ],
)
def test_a_well_formed_request_id_is_kept_and_echoed(sent):
    response = HttpClient().get("/health", headers={"X-Request-ID": sent})
    assert response["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent",
    [
        "",
        " ",
        "a" * 129,
        "has space",
        "-leading-dash",
        'quote"d',
        "<script>",
        "café",
        "line\nbreak",
        "tab\there",
        "semi;colon",
    ],
)
def test_a_malformed_request_id_is_replaced(sent):
    response = HttpClient().get("/health", HTTP_X_REQUEST_ID=sent)
    replaced = response["X-Request-ID"]
    assert replaced != sent and logs.WELL_FORMED_ID.fullmatch(replaced)


def test_every_request_gets_its_own_id():
    ids = {HttpClient().get("/health")["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


def test_every_line_logged_while_serving_a_request_carries_its_id(api, user_a, caplog, monkeypatch):
    """A warning from deep inside (the rate-limit cache failing) and the request log's line."""

    def broken(self, key):
        raise ConnectionError("throttle cache down")

    monkeypatch.setattr("core.api.throttling.SlidingWindowThrottleMixin._allow", broken)
    request_logger = logging.getLogger("health.request_log")
    request_logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    errors_before = sample("cache_errors_total", cache="throttle")
    try:
        response = api(user_a).get("/api/issues", headers={"X-Request-ID": "trace-42"})
    finally:
        request_logger.removeHandler(caplog.handler)
    assert response.status_code == 200
    assert response["X-Request-ID"] == "trace-42"
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    warning = [line for line in lines if "rate-limit cache unavailable" in line["message"]]
    logged = [line for line in lines if line["logger"] == "health.request_log"]
    assert warning and logged
    assert {line["request_id"] for line in warning + logged} == {"trace-42"}
    # Formatted after the request is over: the id was stamped on the record when it was made.
    assert logs.request_id.get() is None
    assert sample("cache_errors_total", cache="throttle") == errors_before + 1


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_djangos_own_line_for_a_server_error_carries_the_request_id(caplog, monkeypatch):
    """Django logs a 5xx after every middleware has returned: the id is kept until the response
    is closed, then forgotten."""
    monkeypatch.setattr("health.checks.ML_TABLES_SQL", "SELECT no_such_column")
    caplog.set_level(logging.ERROR, logger="django.request")
    response = HttpClient().get("/health/database", headers={"X-Request-ID": "five-oh-three"})
    assert response.status_code == 503
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert json.loads(JsonFormatter().format(record))["request_id"] == "five-oh-three"
    assert logs.request_id.get() is None


def test_a_host_outside_allowed_hosts_is_one_line_without_a_traceback(caplog, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    caplog.set_level(logging.DEBUG)
    response = HttpClient().get("/health", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.name.startswith("django.security")]


def test_a_line_separator_in_a_path_cannot_forge_a_line(caplog):
    """JSON escapes newlines; U+2028, U+2029 and U+0085, which some readers split on, too."""
    request_logger = logging.getLogger("health.request_log")
    request_logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        HttpClient().get("/no/such/\u2028forged\u2029line\u0085here")
    finally:
        request_logger.removeHandler(caplog.handler)
    [record] = [r for r in caplog.records if r.name == "health.request_log"]
    text = JsonFormatter().format(record)
    assert len(text.splitlines()) == 1 and text.isascii()
    assert "\u2028forged" in json.loads(text)["path"]


def test_a_metric_that_cannot_be_counted_never_fails_the_request(monkeypatch, caplog):
    def broken(*labels):
        raise OSError("No space left on device")

    monkeypatch.setattr(metrics.REQUESTS, "labels", broken)
    monkeypatch.setattr(metrics, "_failed", False)
    caplog.set_level(logging.ERROR, logger="core.metrics")
    assert HttpClient().get("/health").status_code == 200
    assert HttpClient().get("/health").status_code == 200
    logged = [r for r in caplog.records if r.name == "core.metrics"]
    assert len(logged) == 1 and "could not be updated" in logged[0].getMessage()


def test_a_json_line_has_time_level_logger_message_and_the_traceback_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("core.test").makeRecord(
            "core.test", logging.ERROR, __file__, 1, "failed: %s", ("x",), exc_info=True
        )
        record.exc_info = __import__("sys").exc_info()
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["level"] == "ERROR" and line["logger"] == "core.test"
    assert line["message"] == "failed: x"
    assert line["time"].endswith("+00:00")
    assert "ValueError: boom" in line["exception"]


# ---- /metrics: off unless protected -------------------------------------------------------


def test_metrics_are_off_by_default(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ()
    response = HttpClient().get("/metrics")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        ("Bearer s3cret-metrics-token ", 401),
        ("Token s3cret-metrics-token", 401),
        ("bearer s3cret-metrics-token", 200),  # the scheme is case-insensitive (RFC 7235)
        ("Bearer s3cret-metrics-token", 200),
    ],
)
def test_a_metrics_token_is_a_bearer_token(settings, header, status):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    settings.METRICS_ALLOWED_NETWORKS = ()
    headers = {"Authorization": header} if header is not None else {}
    response = HttpClient().get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        assert response["Content-Type"].startswith("text/plain")
        assert b"http_requests_total" in response.content


@pytest.mark.parametrize(
    ("networks", "address", "status"),
    [
        (("10.0.0.0/8",), "10.1.2.3", 200),
        (("10.0.0.0/8",), "192.0.2.1", 403),
        (("192.0.2.7/32",), "192.0.2.7", 200),
        (("2001:db8::/32",), "2001:db8::1", 200),
        (("2001:db8::/32",), "10.1.2.3", 403),
        (("10.0.0.0/8",), "::ffff:10.1.2.3", 200),  # IPv4 over a dual-stack socket
        (("10.0.0.0/8",), "::ffff:192.0.2.1", 403),
        (("10.0.0.0/8",), "not an address", 403),
    ],
)
def test_an_allow_list_checks_the_connections_own_address(settings, networks, address, status):
    import ipaddress

    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = tuple(ipaddress.ip_network(n) for n in networks)
    # A forwarded address is never believed.
    response = HttpClient(REMOTE_ADDR=address).get(
        "/metrics", headers={"X-Forwarded-For": "10.1.2.3"}
    )
    assert response.status_code == status


def test_with_a_token_and_an_allow_list_a_scrape_needs_both(settings):
    import ipaddress

    settings.METRICS_TOKEN = "t" * 40
    settings.METRICS_ALLOWED_NETWORKS = (ipaddress.ip_network("10.0.0.0/8"),)
    good = {"Authorization": "Bearer " + "t" * 40}
    assert HttpClient(REMOTE_ADDR="10.0.0.5").get("/metrics", headers=good).status_code == 200
    assert HttpClient(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 401
    assert HttpClient(REMOTE_ADDR="192.0.2.5").get("/metrics", headers=good).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_metrics_are_read_only(settings, method):
    settings.METRICS_TOKEN = "t" * 40
    response = getattr(HttpClient(), method)(
        "/metrics", headers={"Authorization": "Bearer " + "t" * 40}
    )
    assert response.status_code == 405


# ---- what is counted --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("api/issues/?$", "/api/issues"),
        ("api/issues/(?P<pk>[0-9]{1,18})/?$", "/api/issues/{pk}"),
        ("api/issues/(?P<pk>[0-9]{1,18})/similar/?$", "/api/issues/{pk}/similar"),
        ("^health/ready/?$", "/health/ready"),
        ("admin/issues/issue/<path:object_id>/change/", "/admin/issues/issue/{object_id}/change/"),
        ("^", "unmatched"),
    ],
)
def test_requests_are_counted_by_route_template(route, template):
    assert metrics.route_template(route) == template


def test_ids_and_unknown_paths_never_become_labels(api, user_a):
    client = api(user_a)
    before = sample("http_requests_total", route="unmatched", method="GET", status="404")
    for path in ("/no/such/path", "/api/nothing-here", "/api/issues/12345/nope"):
        assert client.get(path).status_code == 404
    assert sample("http_requests_total", route="unmatched", method="GET", status="404") == (
        before + 3
    )
    item_before = sample(
        "http_requests_total", route="/api/issues/{pk}", method="GET", status="404"
    )
    client.get("/api/issues/999999")
    client.get("/api/issues/999998")
    assert (
        sample("http_requests_total", route="/api/issues/{pk}", method="GET", status="404")
        == item_before + 2
    )


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_reads_are_counted_by_alias_and_tokens_by_cache_hit_or_miss(api, user_a):
    from core.testing import wait_for_standby

    client = api(user_a)
    wait_for_standby()
    reads = sample("db_reads_total", alias="replica")
    misses = sample("api_token_cache_total", result="miss")
    hits = sample("api_token_cache_total", result="hit")
    for _ in range(3):
        assert client.get("/api/issues").status_code == 200
    assert sample("db_reads_total", alias="replica") >= reads + 3
    assert sample("api_token_cache_total", result="miss") == misses + 1
    assert sample("api_token_cache_total", result="hit") == hits + 2


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_standby_marked_down_is_a_failover_and_shows_as_down(settings):
    settings.METRICS_TOKEN = "t" * 40
    [standby] = replicas.standbys()
    before = sample("db_failovers_total", server=standby.name)
    try:
        replicas.mark_down(standby.name, "drill")
        replicas.mark_down(standby.name, "drill again")  # already down: not a second failover
        scraped = HttpClient().get("/metrics", headers={"Authorization": "Bearer " + "t" * 40})
        assert f'db_standby_up{{server="{standby.name}"}} 0.0' in scraped.content.decode()
    finally:
        replicas.reset()
    assert sample("db_failovers_total", server=standby.name) == before + 1
    scraped = HttpClient().get("/metrics", headers={"Authorization": "Bearer " + "t" * 40})
    text = scraped.content.decode()
    assert f'db_standby_up{{server="{standby.name}"}} 1.0' in text
    assert f'db_standby_lag_seconds{{server="{standby.name}"}}' in text


def test_a_shared_cache_failure_is_counted():
    before = sample("cache_errors_total", cache="shared")
    shared_cache.note_failure()
    assert sample("cache_errors_total", cache="shared") == before + 1


def test_refused_requests_are_counted_by_limit(settings, api, user_a):
    from django.core.cache import caches

    settings.API_THROTTLE_USER = "2/minute"
    caches["throttle"].clear()
    client = api(user_a)
    before = sample("http_rate_limited_total", scope="user")
    statuses = [client.get("/api/issues").status_code for _ in range(5)]
    assert statuses.count(429) == 3
    assert sample("http_rate_limited_total", scope="user") == before + 3
