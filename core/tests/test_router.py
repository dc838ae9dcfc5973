"""The router against the real primary and its real streaming standby."""

from __future__ import annotations

import signal
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, close_old_connections, connections, transaction

from core.db import replicas
from core.db.failover import ServerUnavailable
from core.db.replicas import primary_wal_position
from core.db.router import ml_session, read_alias
from core.db.state import current, identify, pin_user, request_scope
from core.embedded import binaries
from core.models import Client
from core.testing import (
    server_frozen,
    server_in_recovery,
    server_stopped,
    standby_delay,
    wait_for_standby,
    wait_until,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.embedded,
]


def standby_dir():
    return settings.EMBEDDED_DB.standby.data_dir


def fetch_client(name: str) -> Client | None:
    """An ORM read through the router, as application code does it."""
    return Client.objects.filter(name=name).first()


def recovery_of_server_that_served() -> bool:
    row = next(iter(Client.objects.raw("SELECT 0 AS id, pg_is_in_recovery() AS in_recovery")))
    return row.in_recovery


def test_plain_read_is_answered_by_a_standby():
    assert recovery_of_server_that_served() is True
    assert current().read_aliases == ["replica"]


def test_write_lands_on_the_primary_and_replicates():
    with request_scope():
        client = Client.objects.create(name="written")
        assert client._state.db == "default"
    wait_for_standby()
    with request_scope():
        assert fetch_client("written") is not None
        assert current().read_aliases == ["replica"]


def test_reads_after_a_write_in_the_same_unit_of_work_use_the_primary():
    with request_scope():
        Client.objects.create(name="mine")
        assert fetch_client("mine") is not None
        assert current().read_aliases == ["default"]


def test_reads_inside_atomic_use_the_primary():
    with transaction.atomic():
        assert recovery_of_server_that_served() is False
    assert current().read_aliases == ["default"]


def test_ml_session_has_the_ml_settings_and_refuses_writes():
    with ml_session() as alias:
        assert alias == "ml"
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "current_setting('default_transaction_read_only'), "
                "current_setting('work_mem'), current_setting('random_page_cost'), "
                "pg_is_in_recovery()"
            )
            assert cursor.fetchone() == ("5min", "on", "256MB", "1.1", True)
        with pytest.raises(Exception, match="read-only"), connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE ml_must_not_write (id int)")


def test_ml_session_for_writes_is_the_tuned_primary_in_a_read_write_transaction():
    with ml_session(read_only=False) as alias, connections[alias].cursor() as cursor:
        assert alias == "ml_primary"
        assert connections[alias].in_atomic_block
        cursor.execute(
            "SELECT current_setting('work_mem'), current_setting('transaction_read_only'), "
            "pg_is_in_recovery()"
        )
        assert cursor.fetchone() == ("256MB", "off", False)
        Client.objects.create(name="written-by-ml")
    assert Client.objects.using("default").filter(name="written-by-ml").exists()


def test_ml_reads_on_the_primary_are_read_only_like_on_a_standby():
    with connections["ml_primary"].cursor() as cursor:
        cursor.execute("SELECT current_setting('default_transaction_read_only')")
        assert cursor.fetchone() == ("on",)


def test_read_your_writes_with_a_really_lagging_standby(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 30
    settings.REPLICA_PIN_SECONDS = 40
    with request_scope():
        writer = Client.objects.create(name="writer")
        other = Client.objects.create(name="other")
    wait_for_standby()
    with standby_delay(4):
        # Request 1: the writer writes and reads back at once.
        with request_scope(user_id=writer.pk) as state:
            Client.objects.create(name="fresh-row")
            assert fetch_client("fresh-row") is not None
            assert state.read_aliases == ["default"]
        # What the middleware does when the request ends: the user waits for this position.
        pin_user(writer.pk, primary_wal_position())
        # Request 2, same user: the standby has not replayed the write, the primary answers.
        with request_scope():
            identify(writer.pk)
            assert fetch_client("fresh-row") is not None
            assert current().read_aliases == ["default"]
        # Another user in that window is served by the standby, which has not replayed it.
        with request_scope():
            identify(other.pk)
            assert fetch_client("fresh-row") is None
            assert current().read_aliases == ["replica"]
    # As soon as the standby has replayed the write, the writer reads from it again.
    wait_for_standby()
    with request_scope():
        identify(writer.pk)
        assert fetch_client("fresh-row") is not None
        assert current().read_aliases == ["replica"]


def test_a_pin_is_kept_however_long_the_standby_lags(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 60
    with request_scope():
        writer = Client.objects.create(name="patient-writer")
    wait_for_standby()
    with standby_delay(6):
        with request_scope(user_id=writer.pk):
            Client.objects.create(name="late-row")
        pin_user(writer.pk, primary_wal_position())
        for _ in range(3):
            time.sleep(1.5)
            with request_scope():
                identify(writer.pk)
                assert fetch_client("late-row") is not None
                assert current().read_aliases == ["default"]


def test_right_after_the_primary_returns_a_pinned_read_goes_there_even_if_believed_down():
    with request_scope():
        writer = Client.objects.create(name="returning-writer")
    wait_for_standby()
    with standby_delay(4):
        with request_scope(user_id=writer.pk):
            Client.objects.create(name="written-after-restart")
        pin_user(writer.pk, primary_wal_position())
        replicas.mark_down("default")  # this process missed the primary's return
        with request_scope():
            identify(writer.pk)
            assert fetch_client("written-after-restart") is not None
            assert current().read_aliases == ["default"]
        assert not replicas.is_down("default")


def test_lag_above_the_threshold_sends_reads_to_the_primary(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 1
    with standby_delay(3):
        with request_scope():
            Client.objects.create(name="lag-probe")
        time.sleep(2)  # the standby holds the commit back: replay lag grows past 1s
        with request_scope():
            assert fetch_client("lag-probe") is not None
            assert current().read_aliases == ["default"]
        assert replicas.health("replica").lag_seconds > 1


def test_stopped_standby_reads_fall_back_then_return(settings):
    settings.REPLICA_RETRY_SECONDS = 1
    with request_scope():
        Client.objects.create(name="survivor")
    wait_for_standby()
    assert fetch_client("survivor") is not None
    with server_stopped(standby=True):
        close_old_connections()  # what Django does when the next request starts
        with request_scope():
            assert fetch_client("survivor") is not None
            assert current().read_aliases == ["default"]
        assert replicas.is_down("replica")
    # The prober lets the standby back once it answers; requests never wait for that.
    assert wait_until(lambda: not replicas.is_down("replica"), timeout=10)
    with request_scope():
        assert fetch_client("survivor") is not None
        assert current().read_aliases == ["replica"]


def test_standby_dying_under_a_query_is_given_up_and_the_next_read_goes_elsewhere():
    with request_scope():
        Client.objects.create(name="mid-query")
    wait_for_standby()
    assert fetch_client("mid-query") is not None  # connected and checked
    with server_stopped(standby=True):
        # The standby went away after the router last checked it.
        replicas.health("replica").lag_checked_at = time.monotonic()
        with request_scope():
            assert read_alias() == "replica"
            with pytest.raises(ServerUnavailable, match="replica"):
                fetch_client("mid-query")
        assert replicas.is_down("replica")
        with request_scope():
            assert fetch_client("mid-query") is not None
            assert current().read_aliases == ["default"]


def test_a_frozen_standby_is_cut_off_at_the_read_deadline_and_marked_down():
    with request_scope():
        Client.objects.create(name="frozen")
    wait_for_standby()
    assert fetch_client("frozen") is not None  # connected and checked
    replicas.health("replica").lag_checked_at = time.monotonic() + 60  # no lag query first
    with server_frozen(standby=True):
        with request_scope(read_deadline=0.8):
            started = time.monotonic()
            with pytest.raises(ServerUnavailable, match="deadline"):
                fetch_client("frozen")
            elapsed = time.monotonic() - started
        assert 0.7 < elapsed < 1.5, elapsed
        assert replicas.is_down("replica")
        # Requests are not sent there while it is down, and nobody waits for it again.
        with request_scope(read_deadline=0.8):
            started = time.monotonic()
            assert fetch_client("frozen") is not None
            assert time.monotonic() - started < 0.5
            assert current().read_aliases == ["default"]
    assert wait_until(lambda: not replicas.is_down("replica"), timeout=10)


def test_a_slow_read_on_a_live_standby_is_left_to_finish():
    assert fetch_client("nobody") is None  # connected, lag measured
    replicas.health("replica").lag_checked_at = time.monotonic() + 60  # no lag query first
    with request_scope(read_deadline=0.6):
        started = time.monotonic()
        row = next(iter(Client.objects.raw("SELECT 0 AS id, pg_sleep(1.5) AS slept")))
        assert row.id == 0
        assert time.monotonic() - started >= 1.5
        assert current().read_aliases == ["replica"]
    assert not replicas.is_down("replica")


def test_primary_down_writes_fail_reads_go_on(settings):
    with request_scope():
        Client.objects.create(name="before-outage")
    wait_for_standby()
    with server_stopped(standby=False):
        with request_scope(), pytest.raises(OperationalError):
            Client.objects.create(name="during-outage")
        with request_scope() as state:
            assert fetch_client("before-outage") is not None
            assert state.read_aliases == ["replica"]
        # A user pinned by a write the standby has replayed still reads, from the standby.
        with request_scope(user_id=1):
            pin_user(1, replicas.health("replica").replay_lsn or 1)
            assert fetch_client("before-outage") is not None
            assert current().read_aliases == ["replica"]
    assert server_in_recovery("default") is False


def test_with_the_primary_down_a_lagging_standby_still_answers(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.5
    with request_scope():
        Client.objects.create(name="last-known")
    wait_for_standby()
    with server_stopped(standby=False):
        time.sleep(1.2)  # no WAL arrives: the standby's last replayed commit ages past 0.5 s
        replicas.health("replica").lag_checked_at = float("-inf")
        close_old_connections()  # what Django does when the next request starts
        with request_scope() as state:
            assert fetch_client("last-known") is not None
            assert state.read_aliases == ["replica"]
        assert replicas.health("replica").lag_seconds > 0.5


def test_a_read_whose_standby_session_is_terminated_gives_the_standby_up():
    with request_scope():
        Client.objects.create(name="terminated")
    wait_for_standby()
    assert fetch_client("terminated") is not None  # the standby session is open and checked
    pid = connections["replica"].connection.info.backend_pid
    with connections["ml"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    time.sleep(0.2)
    replicas.health("replica").lag_checked_at = time.monotonic()  # as if checked just now
    with request_scope(), pytest.raises(ServerUnavailable):
        fetch_client("terminated")
    assert replicas.is_down("replica")


def test_a_standby_session_known_to_be_dead_is_not_handed_out():
    with request_scope():
        Client.objects.create(name="dead-session")
    wait_for_standby()
    assert fetch_client("dead-session") is not None
    pid = connections["replica"].connection.info.backend_pid
    with connections["ml"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    raw = connections["replica"].connection
    with pytest.raises(psycopg.OperationalError), raw.cursor() as cursor:
        cursor.execute("SELECT 1")  # the driver now knows the session is gone
    assert raw.broken or raw.closed
    replicas.health("replica").lag_checked_at = time.monotonic()  # as if checked just now
    with request_scope():
        assert fetch_client("dead-session") is not None  # a fresh session, or the primary


def test_a_standby_that_freezes_midway_through_a_long_read_is_still_cut_off():
    assert fetch_client("nobody") is None  # connected, lag measured
    replicas.health("replica").lag_checked_at = time.monotonic() + 60
    freezer = threading.Timer(1.5, lambda: binaries.signal_server(standby_dir(), signal.SIGSTOP))
    try:
        with request_scope(read_deadline=0.6):
            started = time.monotonic()
            freezer.start()
            with pytest.raises(ServerUnavailable, match="deadline"):
                list(Client.objects.raw("SELECT 0 AS id, pg_sleep(5) AS slept"))
            elapsed = time.monotonic() - started
    finally:
        freezer.join()
        binaries.signal_server(standby_dir(), signal.SIGCONT)
    # Alive (and left alone) for 1.5 s, then cut within a deadline of the freeze.
    assert 1.5 < elapsed < 2.6, elapsed
    assert wait_until(lambda: not replicas.is_down("replica"), timeout=10)


def test_an_unknown_position_with_the_primary_down_reads_a_standby_at_once():
    with request_scope():
        Client.objects.create(name="kept")
    wait_for_standby()
    pin_user(7, None)  # the primary went away before the write's position could be read
    with server_stopped(standby=False), request_scope(read_deadline=1.0) as state:
        close_old_connections()  # what Django does when the next request starts
        identify(7)
        started = time.monotonic()
        for _ in range(3):
            assert fetch_client("kept") is not None
        assert time.monotonic() - started < 1.0
        assert state.read_aliases == ["replica"]
