"""Helpers for tests that drive the real primary and standby."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import DatabaseError, connections

from core.db import replicas
from core.embedded import binaries


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
