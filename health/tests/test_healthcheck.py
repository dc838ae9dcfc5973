"""``manage.py healthcheck`` with both servers up (outages: test_outages.py)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from health import checks

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def run(*arguments: str) -> str:
    stdout = io.StringIO()
    call_command("healthcheck", *arguments, stdout=stdout)
    return stdout.getvalue()


@pytest.fixture
def without_pgvector(monkeypatch):
    """The ML check sees no pgvector extension: degraded."""
    monkeypatch.setattr(
        checks, "EXTENSIONS_SQL", checks.EXTENSIONS_SQL.replace("'vector'", "'vector_absent'")
    )


def test_all_scopes_healthy_print_one_line_each():
    lines = run().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["live", "healthy"],
        ["ready", "healthy"],
        ["database", "healthy"],
        ["ml", "healthy"],
        ["overall", "healthy"],
    ]
    assert "reads from replica" in lines[1]


def test_json_of_one_scope_is_the_endpoint_body(client):
    document = json.loads(run("--scope", "database", "--json"))
    endpoint = client.get("/health/database").json()
    assert document.keys() == endpoint.keys()
    assert document["status"] == "healthy"
    assert document["served_by"] == "replica"


def test_json_of_all_scopes_nests_each_check():
    document = json.loads(run("--json"))
    assert document["status"] == "healthy"
    assert set(document["checks"]) == {"live", "ready", "database", "ml"}
    assert document["checks"]["live"] == {"status": "ok"}


def test_live_scope_needs_no_database():
    connections.close_all()
    assert run("--scope", "live").split()[:2] == ["live", "healthy"]
    assert all(connections[alias].connection is None for alias in connections)


def test_degraded_passes_unless_strict(without_pgvector):
    output = run("--scope", "ml")
    assert output.splitlines()[0].split()[:2] == ["ml", "degraded"]
    assert "- pgvector not available" in output
    with pytest.raises(CommandError) as raised:
        run("--scope", "ml", "--strict")
    assert str(raised.value) == "degraded (--strict): pgvector not available"


def test_unknown_scope_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'everything'"):
        run("--scope", "everything")
