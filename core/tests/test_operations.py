"""Operating the service: gunicorn as production runs it (gunicorn.conf.py, two workers).

- /metrics sums both workers' counters, and they add up to what the client saw;
- every line of the output is one JSON object, and a request's lines share its id;
- SIGTERM drains: /health/ready answers 503 while every request is still served, then the
  instance stops, and no request fails.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.drills import Load, call
from core.testing import production_service, wait_for_standby
from users.services import api_user_create

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

METRICS_TOKEN = "metrics-" + "x7Qp" * 10


def get(port: int, path: str, headers: dict | None = None, timeout: float = 30):
    """(status, headers) of one GET on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        answer.read()
        return answer.status, dict(answer.getheaders())
    finally:
        connection.close()


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, by name and labels."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    answer = connection.getresponse()
    text = answer.read().decode()
    connection.close()
    assert answer.status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, found), value in samples.items()
        if sample == name and set(labels.items()) <= set(found)
    )


def test_metrics_add_up_across_two_workers_and_every_output_line_is_json(tmp_path):
    _, key, _ = api_user_create(client_name="Scraped", email="scraped@example.com")
    wait_for_standby()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    with production_service(
        tmp_path,
        "observed",
        args=("--access-logfile", "-"),
        METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        API_THROTTLE_ANON="3/minute",
    ) as service:
        port = service.port
        signed_in = {"Authorization": f"Bearer {key}"}
        with ThreadPoolExecutor(4) as pool:
            listed = list(pool.map(lambda _: get(port, "/api/issues", signed_in), range(40)))
            anonymous = list(pool.map(lambda _: get(port, "/api/issues"), range(12)))
            unknown = list(pool.map(lambda _: get(port, "/no/such/page"), range(3)))
        traced = get(port, "/health", {"X-Request-ID": "ops-trace-1"})
        samples = scrape(port)
        log_file = service.log_file

    # What the client saw.
    assert [status for status, _ in listed] == [200] * 40
    refused = Counter(status for status, _ in anonymous)
    assert set(refused) <= {401, 429} and refused[429] >= 6  # 3 a minute, per worker
    assert [status for status, _ in unknown] == [404] * 3
    assert traced[1]["X-Request-ID"] == "ops-trace-1"

    # Both workers counted (one file of counters each), and the scrape summed them.
    pids = {re.sub(r"\D", "", name) for name in os.listdir(metrics_dir) if name.endswith(".db")}
    assert len(pids) >= 2, os.listdir(metrics_dir)
    issues = {"route": "/api/issues", "method": "GET"}
    assert total(samples, "http_requests_total", status="200", **issues) == 40
    assert total(samples, "http_requests_total", status="401", **issues) == refused[401]
    assert total(samples, "http_requests_total", status="429", **issues) == refused[429]
    assert total(samples, "http_request_duration_seconds_count", **issues) == 52
    assert total(samples, "http_request_duration_seconds_bucket", le="+Inf", **issues) == 52
    assert total(samples, "http_requests_total", route="unmatched", status="404") == 3
    assert total(samples, "http_rate_limited_total", scope="anon") == refused[429]
    assert total(samples, "api_token_cache_total") == 40
    assert total(samples, "api_token_cache_total", result="miss") >= 1
    assert total(samples, "db_reads_total", alias="replica") >= 40
    assert total(samples, "db_standby_up", server="replica") == 1
    assert ("db_standby_lag_seconds", (("server", "replica"),)) in samples
    assert total(samples, "http_request_retries_total") == 0

    # One stream of JSON objects: gunicorn's lines, Django's, the request log, the access log.
    lines = [json.loads(text) for text in log_file.read_text().splitlines() if text.strip()]
    assert all(isinstance(line, dict) for line in lines)
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
    loggers = Counter(line["logger"] for line in lines)
    assert loggers["gunicorn.error"] >= 3  # starting, booting two workers
    served = [line for line in lines if line["logger"] == "health.request_log"]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert len(served) == len(access) == 40 + 12 + 3 + 1 + 1  # and the scrape
    assert all(line.get("request_id") for line in served + access)
    assert {line["request_id"] for line in served} == {line["request_id"] for line in access}
    [trace] = [line for line in served if line["request_id"] == "ops-trace-1"]
    assert trace["path"] == "/health" and trace["status"] == 200


def test_probes_and_scrapers_speak_plain_http_to_an_instance(tmp_path):
    """With the production redirect to HTTPS on, the load balancer's probes and Prometheus
    reach the instance itself over HTTP; the API is redirected."""
    with production_service(
        tmp_path, "redirecting", SECURE_SSL_REDIRECT="true", METRICS_TOKEN=METRICS_TOKEN
    ) as service:
        assert get(service.port, "/health/ready")[0] == 200
        assert get(service.port, "/health")[0] == 200
        assert scrape(service.port)  # 200, parsed
        status, headers = get(service.port, "/api/issues")
        assert status == 301 and headers["Location"].startswith("https://")


def test_a_reload_keeps_the_metrics_and_the_folder_goes_at_exit(tmp_path):
    """SIGHUP re-reads gunicorn.conf.py and replaces the workers: the counters survive it (the
    folder is kept), and the folder gunicorn made is removed when it stops."""
    with production_service(tmp_path, "reloaded", METRICS_TOKEN=METRICS_TOKEN) as service:
        port = service.port
        for _ in range(3):
            assert get(port, "/health")[0] == 200
        [folder] = re.findall(r'"metrics folder: ([^"]+)"', service.log_file.read_text())
        service.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while service.log_file.read_text().count("Booting worker") < 4:
            assert time.monotonic() < deadline, service.log_file.read_text()
            time.sleep(0.2)
        time.sleep(1.0)  # the old workers finish
        assert get(port, "/health")[0] == 200
        samples = scrape(port)
        assert total(samples, "http_requests_total", route="/health", status="200") == 4
        assert os.path.isdir(folder)
    assert not os.path.exists(folder)


def test_sigterm_drains_then_stops_without_failing_a_request(tmp_path):
    """As a load balancer sees it: readiness turns 503, traffic moves away, the instance stops.

    Requests keep coming for a while after readiness turned (the balancer's probe interval),
    and one request is still arriving when gunicorn stops: every one is answered.
    """
    _, key, _ = api_user_create(client_name="Drained", email="drained@example.com")
    wait_for_standby()
    drain = 3.0
    with production_service(
        tmp_path, "drained", DRAIN_SECONDS=str(drain), GRACEFUL_TIMEOUT="15"
    ) as service:
        port, master = service.port, service.process
        assert get(port, "/health/ready")[0] == 200

        def listing(index: int):
            yield "list", call(service.url, key, "GET", "/api/issues")

        with Load(6, listing, pause=0.0) as load:
            time.sleep(1.0)
            signalled = time.monotonic()
            master.send_signal(signal.SIGTERM)
            # The balancer's probe: readiness turns 503 at once...
            probes = []
            while time.monotonic() - signalled < drain / 2:
                probes.append(get(port, "/health/ready"))
                time.sleep(0.1)
            # ...and it stops sending new requests a probe interval later.
        assert probes and all(status == 503 for status, _ in probes), probes
        # A request in flight when gunicorn stops: its body arrives after the drain ended.
        slow = socket.create_connection(("127.0.0.1", port), timeout=30)
        body = b'{"key": "DRAIN-1", "summary": "in flight at shutdown"}'
        slow.sendall(
            b"POST /api/issues HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {key}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        time.sleep(max(0.0, signalled + drain + 1.0 - time.monotonic()))
        slow.sendall(body)
        answer = slow.recv(65536).decode("latin-1")
        slow.close()
        master.wait(30)
        stopped = time.monotonic()

    statuses = load.statuses("list")  # 0: the connection failed
    assert statuses and set(statuses) == {200} and not load.errors, statuses
    during_drain = [outcome for outcome in load.of("list") if outcome.started > signalled]
    assert len(during_drain) >= 10  # served while draining
    assert answer.startswith("HTTP/1.1 201 "), answer
    assert master.returncode == 0
    assert stopped - signalled >= drain
    log = service.log_file.read_text()
    assert "draining for 3.0 s" in log
