"""The suite itself runs anywhere: against external databases, the tests that stop, freeze or
delay the embedded servers are skipped, not crashed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

MODULES = [
    "core/tests/test_fault_drills.py",
    "core/tests/test_embedded.py",
    "core/tests/test_router.py",
    "health/tests/test_outages.py",
    "users/tests/test_token_freshness.py",
]


def test_against_external_databases_the_embedded_drills_are_skipped():
    embedded = settings.EMBEDDED_DB
    if embedded is None:
        pytest.skip("already running against external databases")

    def external(server) -> str:
        # The same servers, as any external ones: a database of their own for this run.
        return embedded.url(server).replace("/analytics?", "/analytics_external?")

    env = {
        **os.environ,
        "DATABASE_URL": external(embedded.primary),
        "REPLICA_DATABASE_URLS": external(embedded.standby),
    }
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MODULES],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = finished.stdout.strip().splitlines()[-1]
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "skipped" in summary and "passed" not in summary and "error" not in summary, summary
