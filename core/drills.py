"""Client threads for fault drills: real HTTP requests, each one's outcome and timing.

Used by the drills against the embedded pair (``core/tests/test_fault_drills.py``) and against
the production topology (``core/tests/test_topology.py``).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# What a TLS-terminating load balancer in front of the production settings adds.
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


@dataclass
class Outcome:
    """One request's result."""

    kind: str
    status: int
    seconds: float
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    started: float = 0.0
    base: str = ""


def call(
    base: str,
    token: str | None,
    method: str,
    path: str,
    body: dict | None = None,
    *,
    headers: dict | None = None,
    timeout: float = 20,
) -> Outcome:
    """One request; status 0 when the connection itself failed (reset, refused, timed out)."""
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {}),
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, answer_headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), dict(error.headers)
    except (urllib.error.URLError, OSError):
        status, raw, answer_headers = 0, b"", {}
    elapsed = time.monotonic() - started
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return Outcome(method, status, elapsed, parsed, answer_headers, started, base)


Work = Callable[[int], Iterable[tuple[str, Outcome]]]


class Load:
    """Client threads running ``work(index)`` in a loop until stopped (bounded by ``limit`` s)."""

    def __init__(self, workers: int, work: Work, limit: float = 60.0, pause: float = 0.01):
        self.stop = threading.Event()
        self.outcomes: list[tuple[str, Outcome]] = []
        self.errors: list[BaseException] = []
        self._pause = pause
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + limit
        self._threads = [threading.Thread(target=self._run, args=(i, work)) for i in range(workers)]

    def _run(self, index: int, work: Work) -> None:
        while not self.stop.is_set() and time.monotonic() < self._deadline:
            try:
                for label, outcome in work(index):
                    with self._lock:
                        self.outcomes.append((label, outcome))
            except BaseException as error:  # a client-side failure must fail the drill, not vanish
                self.errors.append(error)
                return
            time.sleep(self._pause)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def of(self, label: str) -> list[Outcome]:
        return [outcome for kind, outcome in self.outcomes if kind == label]

    def statuses(self, label: str) -> Counter:
        return Counter(outcome.status for outcome in self.of(label))

    def slowest(self) -> float:
        return max((outcome.seconds for _, outcome in self.outcomes), default=0.0)
