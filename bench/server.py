"""gunicorn for the HTTP measures, as ``make run`` serves the service: ``gunicorn.conf.py``
(``GUNICORN_WORKERS`` sync workers, 2 by default), the production settings, serving the project,
the plain-DRF baseline and the floor from the same workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from bench.loadgen import http_get

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def gunicorn(port: int, **environment: str) -> Iterator[list[int]]:
    """A fresh server for the block (each comparison gets workers no other one has used); the
    block gets the workers' pids. ``environment``: variables of this server only (``CACHE_URL``).
    """
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        # No rolling restart here: stop at once.
        "DRAIN_SECONDS": "0",
        **environment,
    }
    log = open(Path(settings.EMBEDDED_DB_DIR) / "bench-gunicorn.log", "ab")  # noqa: SIM115
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "bench.wsgi:application",
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,  # where gunicorn.conf.py is read from
        env=environment,
        stdout=log,
        stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        workers = []
        while True:
            try:
                http_get(port, "/health", {})
                workers = _children(server.pid)
                if len(workers) >= settings.GUNICORN_WORKERS:
                    break
            except (OSError, RuntimeError):
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port} ({log.name})")
            time.sleep(0.3)
        yield workers
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []
