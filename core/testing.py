"""Helpers for tests that drive the real primary and standby."""

from __future__ import annotations

import contextlib
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.db import DatabaseError, connections

from core.db import replicas
from core.embedded import binaries

if TYPE_CHECKING:
    from core.topology.service import ServiceInstance


def _scalar(alias: str, sql: str):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def server_in_recovery(alias: str) -> bool:
    """``pg_is_in_recovery()`` of the server behind ``alias`` (True on a standby)."""
    return _scalar(alias, "SELECT pg_is_in_recovery()")


def wait_for_standby(alias: str = "replica", timeout: float = 15.0) -> None:
    """Block until the standby has replayed everything the primary has written so far."""
    target = _scalar("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _scalar(alias, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
                return
        except DatabaseError:
            # The standby may still be replaying the creation of the test database.
            connections[alias].close()
        time.sleep(0.05)
    raise AssertionError(f"standby {alias} did not replay {target} within {timeout}s")


def embedded_servers():
    """The embedded primary and standby; the test is skipped against external databases (mark
    such tests ``embedded`` too, so that they are skipped before they start)."""
    if settings.EMBEDDED_DB is None:
        pytest.skip("needs the embedded servers (DATABASE_URL is set)")
    return settings.EMBEDDED_DB


@contextlib.contextmanager
def standby_delay(seconds: float) -> Iterator[None]:
    """Make the embedded standby apply WAL ``seconds`` late (really lagging), then restore it."""
    embedded = embedded_servers()
    embedded.set_standby_apply_delay(seconds)
    try:
        yield
    finally:
        embedded.set_standby_apply_delay(0)
        replicas.reset()


@contextlib.contextmanager
def server_stopped(*, standby: bool) -> Iterator[None]:
    """Stop the embedded standby (or primary) for the block, then start it again."""
    servers = {"primary": not standby, "standby": standby}
    embedded = embedded_servers()
    embedded.stop(**servers)
    try:
        yield
    finally:
        embedded.start(**servers)
        for alias in connections:
            connections[alias].close()
        replicas.reset()


@contextlib.contextmanager
def server_frozen(*, standby: bool = True) -> Iterator[None]:
    """Stop every process of the embedded standby (or primary) with SIGSTOP for the block: a
    server that accepts connections but never answers, like a hung host.
    """
    embedded = embedded_servers()
    data_dir = (embedded.standby if standby else embedded.primary).data_dir
    binaries.signal_server(data_dir, signal.SIGSTOP)
    try:
        yield
    finally:
        binaries.signal_server(data_dir, signal.SIGCONT)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def use_file_cache(django_settings, alias: str, location) -> None:
    """Point cache ``alias`` at a file cache in ``location`` (a file there makes it fail)."""
    django_settings.CACHES = {
        **django_settings.CACHES,
        alias: {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(location),
        },
    }


def suite_database_environment(**overrides: str) -> dict[str, str]:
    """The environment of a process (a ``manage.py`` command, a gunicorn instance) that works on
    the suite's test database, on the embedded primary and its standby, and shares the suite's
    cache (token epochs, read-your-writes positions)."""
    import os

    embedded = embedded_servers()
    name = connections["default"].settings_dict["NAME"]

    def url(server) -> str:
        return embedded.url(server).replace("@/analytics?", f"@/{name}?")

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url(embedded.primary),
        "REPLICA_DATABASE_URLS": url(embedded.standby),
        "CACHE_URL": f"filecache://{settings.CACHES['default']['LOCATION']}",
        **overrides,
    }


@contextlib.contextmanager
def production_service(
    tmp_path, name: str, *, args: tuple[str, ...] = (), **overrides: str
) -> Iterator[ServiceInstance]:
    """gunicorn as production runs it (gunicorn.conf.py, the production settings, two workers)
    on the suite's test database, on a free port; its output in ``<tmp_path>/<name>.log``."""
    import secrets

    from core.topology.processes import free_ports
    from core.topology.service import ServiceInstance

    [port] = free_ports(1)
    settings_env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "PYTHONUNBUFFERED": "1",
    }
    environment = suite_database_environment(**{**settings_env, **overrides})
    instance = ServiceInstance(name, port, environment, tmp_path / f"{name}.log", args=args)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


# ---- documents whose commands are run as written ---------------------------------------------

_BLOCK = re.compile(r"^```(bash|text)\n(.*?)^```$", re.S | re.M)
_STEP_END = "@@ step done @@"


def documented_steps(document: Path, section: str) -> list[tuple[str, str]]:
    """(commands, expected output) pairs between ``<!-- <section>: start -->`` and
    ``<!-- <section>: end -->`` of ``document``: each ``bash`` block followed by a ``text`` block
    of what it prints (``…`` stands for what differs between runs)."""
    marked = re.compile(rf"<!-- {section}: start.*?-->(.*)<!-- {section}: end -->", re.S)
    [text] = marked.findall(document.read_text())
    blocks = _BLOCK.findall(text)
    steps = []
    for (kind, commands), (next_kind, expected) in zip(blocks[::2], blocks[1::2], strict=True):
        assert (kind, next_kind) == ("bash", "text"), "each bash block is followed by its output"
        steps.append((commands, expected))
    return steps


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def output_matches(expected: str, output: str) -> bool:
    pattern = re.escape(_lines(expected)).replace(re.escape("…"), ".*?")
    return re.fullmatch(pattern, _lines(output), re.S) is not None


def run_steps(
    steps: list[tuple[str, str]], *, env: dict[str, str], cwd: Path, timeout: float = 300
) -> None:
    """Run the steps' commands in one bash shell, as a reader would, and check each output."""
    import subprocess

    script = "".join(f"{commands}echo; echo '{_STEP_END}'\n" for commands, _ in steps)
    finished = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    outputs = finished.stdout.split(f"{_STEP_END}\n")[: len(steps)]
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert len(outputs) == len(steps), finished.stdout + finished.stderr
    for (commands, expected), output in zip(steps, outputs, strict=True):
        assert output_matches(expected, output), (
            f"\n$ {commands}\nexpected:\n{expected}\ngot:\n{output}\nstderr:\n{finished.stderr}"
        )
