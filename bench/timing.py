"""Timing: requests into a WSGI application in-process, and interleaved medians."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlencode


def wsgi_get(
    application,
    path: str,
    query: dict | None = None,
    token: str | None = None,
    headers: dict | None = None,
) -> tuple[int, bytes]:
    """GET ``path`` from ``application`` without a network: status code and body (``headers``:
    more request headers, as WSGI names them: ``HTTP_ACCEPT_ENCODING``)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(query or {}),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0),
        # As behind the TLS-terminating proxy (the production settings redirect plain HTTP).
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    environ.update(headers or {})
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(int(line.split()[0]))

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0], body


def interleaved(
    variants: dict[str, Callable[[], object]], *, repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Run the variants in turn (A B C A B C ...); milliseconds per run, warm-up rounds dropped."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(warmup + repeats):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            elapsed = (time.perf_counter() - started) * 1000
            if round_number >= warmup:
                times[name].append(elapsed)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)
