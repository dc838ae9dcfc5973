"""A Python client generated from the schema (``openapi-python-client``), used against the
running service as a client developer would: gunicorn with the production settings and two
workers, over HTTP, on the suite's test database.

It signs in with a password, lists, creates (with an idempotency key), reads conditionally,
changes with ``If-Match``, upserts in bulk, asks the health endpoints, and revokes its token:
every answer parsed into the generated models. A schema that drifts from what the service does
(a missing field, a wrong status, an undocumented header parameter) fails here.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.testing import production_service
from users.models import ApiToken
from users.tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.embedded,
]
PACKAGE = "analytics_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated from this checkout's schema and imported."""
    folder = tmp_path_factory.mktemp("generated-client")
    schema = folder / "schema.json"
    schema.write_text(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
    config = folder / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))
    generator = Path(sys.executable).with_name("openapi-python-client")
    finished = subprocess.run(
        [
            str(generator), "generate", "--path", str(schema), "--meta", "none",
            "--output-path", str(folder / PACKAGE), "--config", str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stdout + finished.stderr
    # Every operation was generated (a warning names what was skipped).
    assert "Warning" not in finished.stdout, finished.stdout
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def service(tmp_path):
    """gunicorn with the production settings, two workers, on the test database."""
    with production_service(tmp_path, "generated-client") as instance:
        yield instance


def _module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_against_the_running_service(generated, service, tenant_a):
    api = _module("api")  # noqa: F841 (the package's operations load on first use)
    models = _module("models")
    auth_token_create = _module("api.auth.auth_token_create")
    auth_tokens_list = _module("api.auth.auth_tokens_list")
    auth_tokens_destroy = _module("api.auth.auth_tokens_destroy")
    users_create = _module("api.users.users_create")
    users_me = _module("api.users.users_me_retrieve")
    issues_list = _module("api.issues.issues_list")
    issues_create = _module("api.issues.issues_create")
    issues_retrieve = _module("api.issues.issues_retrieve")
    issues_partial_update = _module("api.issues.issues_partial_update")
    issues_bulk = _module("api.issues.issues_bulk_create")
    health_ready = _module("api.health.health_ready")

    admin = UserFactory(client=tenant_a, role="admin")
    _, admin_key = ApiToken.issue(user=admin)
    admins = generated.AuthenticatedClient(base_url=service.url, token=admin_key)

    # An admin creates a user with a first password; the user signs in with it.
    created = users_create.sync_detailed(
        client=admins,
        body=models.UserRequest(email="gen@example.test", password="generated-client-pass-1"),
    )
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.User) and created.parsed.email == "gen@example.test"
    anonymous = generated.Client(base_url=service.url)
    issued = auth_token_create.sync_detailed(
        client=anonymous,
        body=models.TokenRequestRequest(
            email="gen@example.test",
            password="generated-client-pass-1",
            client_id=tenant_a.pk,
            name="generated",
        ),
    )
    assert issued.status_code == 201, issued.content
    assert isinstance(issued.parsed, models.IssuedToken)
    me = generated.AuthenticatedClient(base_url=service.url, token=issued.parsed.token)
    mine = users_me.sync_detailed(client=me)
    assert mine.parsed.email == "gen@example.test" and mine.parsed.role == "user"

    # A create, retried with its idempotency key: one item, the same answer.
    body = models.IssueRequest(key="GEN-1", summary="Generated client")
    first = issues_create.sync_detailed(client=me, body=body, idempotency_key="gen-create-1")
    again = issues_create.sync_detailed(client=me, body=body, idempotency_key="gen-create-1")
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert isinstance(first.parsed, models.Issue) and again.parsed.id == first.parsed.id
    assert again.headers["Idempotent-Replayed"] == "true"

    # The list, parsed into its envelope.
    listed = issues_list.sync_detailed(client=me, limit=10, key=["GEN-1"])
    assert isinstance(listed.parsed, models.PaginatedIssueList), listed.content
    assert [issue.key for issue in listed.parsed.issues] == ["GEN-1"]
    assert listed.parsed.total_count == 1 and 'rel="first"' in listed.headers["Link"]

    # Conditional requests: a 304 for the version held, a 412 for a stale one.
    read = issues_retrieve.sync_detailed(first.parsed.id, client=me)
    tag = read.headers["ETag"]
    unchanged = issues_retrieve.sync_detailed(first.parsed.id, client=me, if_none_match=tag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    changed = issues_partial_update.sync_detailed(
        first.parsed.id, client=me, body=models.PatchedIssueRequest(priority="High"), if_match=tag
    )
    assert changed.status_code == 200 and changed.parsed.priority == "High"
    stale = issues_partial_update.sync_detailed(
        first.parsed.id, client=me, body=models.PatchedIssueRequest(priority="Low"), if_match=tag
    )
    assert stale.status_code == 412 and isinstance(stale.parsed, models.Error)

    # A bulk upsert by natural key: one new item, one changed.
    rows = models.IssueBulkRowsRequest(
        rows=[
            models.IssueBulkRowRequest(key="GEN-1", summary="Renamed by the nightly job"),
            models.IssueBulkRowRequest(key="GEN-2", summary="Made by the nightly job"),
        ]
    )
    bulk = issues_bulk.sync_detailed(client=me, body=rows)
    assert isinstance(bulk.parsed, models.BulkResult), bulk.content
    assert (bulk.parsed.created, bulk.parsed.updated) == (1, 1)

    # Health, with the operator's details for a staff token only.
    ready = health_ready.sync_detailed(client=me)
    assert ready.status_code == 200 and isinstance(ready.parsed, models.HealthReport)
    assert ready.parsed.ready is True

    # Signing out: the token is gone for every worker at once.
    tokens = auth_tokens_list.sync_detailed(client=me).parsed.tokens
    [current] = [token for token in tokens if token.current]
    assert auth_tokens_destroy.sync_detailed(current.id, client=me).status_code == 204
    refused = [users_me.sync_detailed(client=me).status_code for _ in range(10)]
    assert refused == [401] * 10
