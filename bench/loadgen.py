"""HTTP clients for the servers the benchmark starts on 127.0.0.1: single requests over a bare
socket, and load from ``wrk`` (Debian's package; C, so that the client takes little of the CPU
the servers share with it).

Every request says ``X-Forwarded-Proto: https``, as the TLS-terminating proxy in front of a
production instance does (the production settings redirect plain HTTP).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from urllib.parse import urlencode

HOST = "127.0.0.1"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def _request_bytes(path: str, query: dict, token: str | None) -> bytes:
    lines = [
        f"GET {path}?{urlencode(query)} HTTP/1.1",
        f"Host: {HOST}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in PROXY_HEADERS.items()),
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_get(port: int, path: str, query: dict, token: str | None = None) -> bytes:
    """One GET over a fresh connection; the raw answer (raises unless it is a 200).

    A bare socket rather than http.client: the client's own parsing is not the server's time.
    """
    with socket.create_connection((HOST, port), timeout=30) as connection:
        connection.sendall(_request_bytes(path, query, token))
        chunks = []
        while chunk := connection.recv(262_144):
            chunks.append(chunk)
    answer = b"".join(chunks)
    if not answer.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
        raise RuntimeError(f"GET {path} answered {answer[:200]!r}")
    return answer


@dataclass
class LoadResult:
    """One run of ``wrk``: requests per second, latency quantiles, failed requests."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_load(
    port: int, path: str, query: dict, token: str | None, seconds: float, concurrency: int
) -> LoadResult:
    """``concurrency`` connections sending the same GET back to back for ``seconds`` (wrk, one
    thread). gunicorn's sync workers close each connection after its answer: wrk opens a new
    one, as clients without keep-alive do."""
    headers = dict(PROXY_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    command = [WRK, "--threads", "1", "--connections", str(concurrency),
               "--duration", f"{max(1, round(seconds))}s", "--timeout", "30s", "--latency"]  # fmt: skip
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(f"http://{HOST}:{port}{path}?{urlencode(query)}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ", output)
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    quantiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", output, re.MULTILINE))
    if not (done and rate and {"50", "99"} <= quantiles.keys()):
        raise RuntimeError(f"unexpected output of wrk: {output!r}")
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(failed[1]) if failed else 0
    if socket_errors:
        # A read error is the server closing the connection after its answer (no keep-alive):
        # not a failure. Refused connections, failed writes and timeouts are.
        errors += int(socket_errors[1]) + int(socket_errors[3]) + int(socket_errors[4])
    return LoadResult(
        float(rate[1]),
        _milliseconds(quantiles["50"]),
        _milliseconds(quantiles["99"]),
        int(done[1]),
        errors,
    )
