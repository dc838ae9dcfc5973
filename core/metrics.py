"""Prometheus metrics: what the service counts, and ``GET /metrics``.

Under gunicorn every worker writes its counters to files in ``PROMETHEUS_MULTIPROC_DIR``
(``gunicorn.conf.py`` makes that folder, and forgets a dead worker's live gauges), and a scrape,
whichever worker answers it, sums them: the figures are the instance's, not one worker's.
Without that folder (tests, ``manage.py``) they are the process's own.

The standbys' state is measured when scraped, by the worker that answers (``StandbyCollector``):
up (1) unless that process has marked the standby down, and its replay lag in seconds.

``/metrics`` is off unless ``METRICS_TOKEN`` (a bearer token) or ``METRICS_ALLOWED_NETWORKS``
(addresses or networks of the scrapers) is set; with both, a scrape needs both. Off, it is a
404 like any unknown path.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "http_requests",
    "Requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
DB_READS = Counter(
    "db_reads", "Reads routed to each database alias (primary, standbys, ML sessions).", ["alias"]
)
FAILOVERS = Counter(
    "db_failovers",
    "Times a server was marked down (its reads then go to another server), by server.",
    ["server"],
)
RETRIES = Counter(
    "http_request_retries",
    "Requests re-run on another server after the one serving them failed.",
)
RATE_LIMITED = Counter(
    "http_rate_limited",
    "Requests refused by a rate limit, by limit (anon, user, login).",
    ["scope"],
)
TOKEN_CACHE = Counter(
    "api_token_cache",
    "API token checks answered from the process's memory (hit) or the database (miss).",
    ["result"],
)
CACHE_ERRORS = Counter(
    "cache_errors",
    "Calls to a cache that failed, by cache (shared: positions and token epoch; throttle).",
    ["cache"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


@functools.lru_cache(maxsize=1024)
def route_template(route: str) -> str:
    """``api/issues/(?P<pk>[0-9]{1,18})/?$`` as ``/api/issues/{pk}`` (a bounded label)."""
    path = _GROUP.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", route)
    path = path.replace("^", "").replace("/?$", "").rstrip("$")
    return "/" + path if path else UNMATCHED


_failed = False


def _counting_failed() -> None:
    """Counting must never fail what is counted (a full disk under the metrics folder): the
    first failure is logged, the metrics go on missing."""
    global _failed
    if not _failed:
        _failed = True
        logger.exception("a metric could not be updated (the next failures are not logged)")


def count(counter: Counter, *labels: str) -> None:
    """``counter`` (with ``labels``) plus one."""
    try:
        (counter.labels(*labels) if labels else counter).inc()
    except Exception:
        _counting_failed()


def observe_request(request, response, seconds: float) -> None:
    try:
        match = getattr(request, "resolver_match", None)
        route = route_template(match.route) if match is not None and match.route else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(seconds)
    except Exception:
        _counting_failed()


class StandbyCollector:
    """Each standby's state as the scraping worker sees it now (measured, not remembered)."""

    def collect(self):
        from core.db import replicas

        up = GaugeMetricFamily(
            "db_standby_up", "1 while reads may go to the standby, 0 while it is marked down.",
            labels=["server"],
        )  # fmt: skip
        lag = GaugeMetricFamily(
            "db_standby_lag_seconds",
            "How far the standby's replay is behind the primary (absent while unreachable).",
            labels=["server"],
        )
        for standby in replicas.standbys():
            down = replicas.is_down(standby.name)
            seconds = None if down else replicas.lag_seconds(standby.probe_alias, standby.name)
            up.add_metric([standby.name], 0.0 if down else 1.0)
            if seconds is not None:
                lag.add_metric([standby.name], seconds)
        yield up
        yield lag


def exposition() -> bytes:
    """Every metric of this instance, in Prometheus's text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    measured = CollectorRegistry()
    measured.register(StandbyCollector())
    return generate_latest(counted) + generate_latest(measured)


def _from_allowed_network(request, networks) -> bool:
    """The connection's own address (``REMOTE_ADDR``, never a forwarded one) is in ``networks``."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    # An IPv4 client of a dual-stack socket arrives as ::ffff:a.b.c.d.
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in networks)


def _has_token(request, token: str) -> bool:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        sent.encode("latin-1", "replace"), token.encode()
    )


def metrics_view(request):
    """``GET /metrics`` (config/urls.py): the instance's metrics, for its scrapers only: 404
    while off, 403 from another network, 401 without the token."""
    from django.conf import settings
    from django.http import HttpResponse, JsonResponse

    from core.api.exceptions import not_found

    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return not_found(request)
    if networks and not _from_allowed_network(request, networks):
        return JsonResponse({"detail": "Not allowed to scrape from this address."}, status=403)
    if token and not _has_token(request, token):
        response = JsonResponse({"detail": "A valid metrics token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
