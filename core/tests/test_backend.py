"""The connection health check: a poll of the socket for an idle session, a query otherwise."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connections, transaction

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def other_session(connection) -> psycopg.Connection:
    """A second session on the server behind ``connection``."""
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )


def last_query_of(connection) -> str:
    """What the server last ran for ``connection``'s session, asked from another session."""
    pid = connection.connection.info.backend_pid
    with other_session(connection) as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[
            0
        ]


@pytest.mark.parametrize("alias", ["default", "replica"])
def test_an_idle_session_is_checked_without_a_round_trip(alias):
    connection = connections[alias]
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")
    assert connection.is_usable()
    assert last_query_of(connection) == "SELECT 42"


def test_a_session_in_a_transaction_is_checked_with_a_query():
    connection = connections["default"]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 42")
        assert connection.is_usable()
        assert last_query_of(connection) == "SELECT 1"


@pytest.mark.parametrize("alias", ["default", "replica"])
def test_a_session_the_server_ended_is_not_usable(alias):
    connection = connections[alias]
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with other_session(connection) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not connection.is_usable()
    # Django's own health check then replaces the session.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection.info.backend_pid != pid
