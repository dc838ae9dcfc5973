"""docs/deployment.md's rehearsal, run as written: the release steps against the embedded primary
and standby (a database and roles of its own), an instance started, observed and drained."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from core.testing import documented_steps, embedded_servers, run_steps
from core.topology.processes import free_ports

GUIDE = Path(settings.BASE_DIR) / "docs" / "deployment.md"
PID_FILE = Path("/tmp/analytics-rehearsal.pid")


def test_the_rehearsal_is_in_the_guide_and_checkable():
    steps = documented_steps(GUIDE, "rehearsal")
    assert len(steps) >= 5
    for commands, expected in steps:
        assert expected.replace("…", "").strip(), commands


def _clean_up(admin_url: str) -> None:
    """What the rehearsal's last step removes, in case it did not get there."""
    if PID_FILE.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(PID_FILE.read_text().strip()), signal.SIGINT)
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS analytics_rehearsal WITH (FORCE)")
        admin.execute("DROP ROLE IF EXISTS analytics_ml")
        admin.execute("DROP ROLE IF EXISTS analytics_app")


@pytest.mark.embedded
def test_the_rehearsal_runs_as_written():
    embedded = embedded_servers()
    admin_url = embedded.url(embedded.primary)
    _clean_up(admin_url)
    [port] = free_ports(1)
    env = {
        key: value
        for key, value in os.environ.items()
        # An operator's shell: no settings but those the guide exports.
        if not key.startswith(("DJANGO_", "DATABASE_", "REPLICA_", "ML_", "CACHE_", "METRICS_"))
        and key not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DRAIN_SECONDS")
    }
    env["PORT"] = str(port)
    try:
        run_steps(documented_steps(GUIDE, "rehearsal"), env=env, cwd=Path(settings.BASE_DIR))
    finally:
        _clean_up(admin_url)
