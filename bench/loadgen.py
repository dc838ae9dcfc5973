"""A small HTTP load generator (asyncio, no dependency) for servers on 127.0.0.1 only.

Each request opens its own connection (gunicorn's sync workers close it after the answer, as a
plain deployment would); a run stops after its time or request budget, whichever comes first.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"
MAX_REQUESTS = 200_000


def _request_bytes(path: str, query: dict, token: str | None) -> bytes:
    lines = [f"GET {path}?{urlencode(query)} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
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
    """Latencies of the successful requests of one run, its errors and its duration."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0


async def _worker(port: int, request: bytes, deadline: float, result: LoadResult) -> None:
    while time.monotonic() < deadline and len(result.latencies_ms) < MAX_REQUESTS:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request)
            answer = await reader.read()
            writer.close()
        except OSError:
            result.errors += 1
            continue
        if answer.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            result.errors += 1


async def _load(port: int, request: bytes, seconds: float, concurrency: int) -> LoadResult:
    result = LoadResult()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(_worker(port, request, deadline, result) for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def run_load(
    port: int, path: str, query: dict, token: str | None, seconds: float, concurrency: int
) -> LoadResult:
    """``concurrency`` clients sending the same GET back to back for ``seconds``."""
    return asyncio.run(_load(port, _request_bytes(path, query, token), seconds, concurrency))
