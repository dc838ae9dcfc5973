"""The README's first-hour walk-through, run verbatim against ``make run`` on a non-default port.

``make run`` is started as a reader would start it, in a data folder of its own (a fresh embedded
primary and standby, migrated and seeded with the demo); the walk-through's ``bash`` blocks then
run in one shell, as in the reader's second terminal, and each block's output must match the
``text`` block that follows it in the README (``…`` stands for what differs between runs: ids,
timestamps).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from core.testing import documented_steps, run_steps
from core.topology.processes import free_ports

README = Path(settings.BASE_DIR) / "README.md"
START_SECONDS = 300


def walk_through() -> list[tuple[str, str]]:
    """(commands, expected output) pairs, in the README's order."""
    return documented_steps(README, "walk-through")


def test_the_walk_through_is_in_the_readme_and_checkable():
    steps = walk_through()
    assert len(steps) >= 4
    for commands, expected in steps:
        # Every expected output says something (not only "…").
        assert expected.replace("…", "").strip(), commands


def _wait_until_ready(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"make run exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"make run did not serve {url} within {START_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """``make run`` on a free port, its data in a folder of its own; yields the reader's
    environment (``PORT`` and ``EMBEDDED_DB_DIR`` set)."""
    tmp_path = tmp_path_factory.mktemp("make-run")
    [port] = free_ports(1)
    env = {
        key: value
        for key, value in os.environ.items()
        # The reader's shell: no test settings, no database but the one make run starts.
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REPLICA_DATABASE_URLS")
    }
    env.update(PORT=str(port), EMBEDDED_DB_DIR=str(tmp_path / "data"))
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            ["make", "run"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(server, f"http://127.0.0.1:{port}/health/ready", log)
        yield env
    finally:
        # make run may have exited already (a failed start): its servers are stopped either way.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        subprocess.run(
            [str(Path(settings.BASE_DIR) / ".venv/bin/python"), "manage.py", "embedded_db", "stop"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            check=False,
        )


def test_the_readme_walk_through_answers_as_written(make_run):
    run_steps(walk_through(), env=make_run, cwd=Path(settings.BASE_DIR))


def _manage(env: dict, *args: str) -> str:
    finished = subprocess.run(
        [str(Path(settings.BASE_DIR) / ".venv/bin/python"), "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return finished.stdout


def _chunked_post(port: int, token: str, path: str, body: bytes) -> tuple[int, dict]:
    """POST ``body`` in 64 KiB chunks with no Content-Length, as curl -T - or a streaming client."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    chunks = (body[start : start + 65536] for start in range(0, len(body), 65536))
    try:
        connection.request(
            "POST",
            path,
            body=chunks,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    except (BrokenPipeError, ConnectionResetError):
        # The server answered before reading the rest and closed; the answer is still there.
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        connection.close()


def test_chunked_bodies_over_http_are_read_and_bounded(make_run):
    """gunicorn hands a chunked body over without CONTENT_LENGTH: it is read as any other body,
    and one past DATA_UPLOAD_MAX_MEMORY_SIZE (5 MiB) is a 413, not an empty body."""
    port = int(make_run["PORT"])
    token = _manage(
        make_run, "create_api_user", "--client", "Chunked", "--email", "chunks@chunked.test"
    ).splitlines()[-1]
    status, body = _chunked_post(port, token, "/api/issues", b'{"key": "CH-1", "summary": "ok"}')
    assert (status, body["key"], body["summary"]) == (201, "CH-1", "ok")
    huge = b'{"key": "CH-2", "summary": "' + b"x" * 30_000_000 + b'"}'
    status, body = _chunked_post(port, token, "/api/issues", huge)
    assert status == 413, body
    assert "5242880" in body["detail"]
