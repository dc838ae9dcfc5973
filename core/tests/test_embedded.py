"""The embedded primary and its real streaming standby."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from core.testing import server_stopped

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.embedded,
]


def scalar(alias: str, sql: str):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_standby_is_streaming_from_the_primary():
    assert scalar("default", "SELECT pg_is_in_recovery()") is False
    assert scalar("replica", "SELECT pg_is_in_recovery()") is True
    assert scalar("default", "SELECT state FROM pg_stat_replication") == "streaming"
    assert scalar("replica", "SELECT status FROM pg_stat_wal_receiver") == "streaming"


def test_vector_extension_reached_the_standby_by_replication():
    assert scalar(
        "replica", "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
    ).startswith("0.8")
    assert scalar("replica", "SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector") < 0.01


def test_start_is_idempotent_and_quick_when_running():
    assert settings.EMBEDDED_DB.start() == []


def test_status_command_and_replica_only_control():
    out = io.StringIO()
    call_command("embedded_db", "status", stdout=out)
    assert "primary: running" in out.getvalue() and "standby: running" in out.getvalue()
    with server_stopped(standby=True):
        out = io.StringIO()
        call_command("embedded_db", "status", stdout=out)
        assert "primary: running" in out.getvalue()
        assert "standby: stopped" in out.getvalue()
    assert scalar("replica", "SELECT pg_is_in_recovery()") is True


def test_servers_listen_only_on_sockets_inside_the_data_folder():
    socket_dir = settings.EMBEDDED_DB.socket_dir
    assert settings.DATABASES["default"]["HOST"] == str(socket_dir)
    assert scalar("default", "SHOW listen_addresses") == ""
