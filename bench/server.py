"""gunicorn for the HTTP measures: 2 workers on 127.0.0.1, serving project, baseline and floor."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.loadgen import http_get

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def gunicorn(port: int) -> Iterator[None]:
    """A fresh server for the block (each comparison gets workers no other one has used)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "bench.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", "2",
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=environment,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                http_get(port, "/health", {})
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port}") from None
                time.sleep(0.3)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)
