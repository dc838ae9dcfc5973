"""Fuzzing from the OpenAPI schema with schemathesis: every default check, positive and negative data.

Runs in-process against the WSGI app with a real token; ``FUZZ_EXAMPLES`` bounds the examples per
operation (small in ``make test``, large in ``make fuzz``). The stateful test follows the schema's
links (create -> get/patch/delete, delete -> get) and checks that a deleted item answers 404.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from config.wsgi import application
from issues.models import Issue
from projects.models import Project
from pullrequests.models import PullRequest
from users.models import ApiToken, User
from users.tests.factories import UserFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
FUZZ_SETTINGS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("FUZZ_RANDOM") is None,
    suppress_health_check=list(HealthCheck),
)

# PostgreSQL text cannot hold NUL: such input is refused with 400 (see test_hostile_input.py),
# so NUL is left out of the "valid" data generated here.
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


@schemathesis.hook
def map_case(context, case):
    """Keep generated valid values valid where validity depends on stored data, not on the schema.

    A schema-valid password is refused when it is a common one ("00000000"), a schema-valid
    ``project_id``/``issue_id`` is refused (400) when the caller has no such row, a
    well-formed ``cursor`` or ``sync`` token is refused unless the server issued it, and a bulk row can be valid
    and yet not apply to the stored data. Valid values
    are swapped for an uncommon password and null references; invalid ones (the negative cases)
    are left alone.
    """
    for token in ("cursor", "sync"):
        value = (case.query or {}).get(token)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]*", value):
            case.query[token] = ""  # only the server mints valid tokens: start a listing
    # The in-process client does not decode gzip (an HTTP client would): ask for none.
    case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
    positive = case.meta is not None and case.meta.generation.mode == "positive"
    if positive:
        # Only the server mints versions (as cursors): a made-up If-Match is rightly a 412.
        case.headers.pop("If-Match", None)
        # A sparse answer holds the fields asked for, not the schema's required ones (its
        # parameter says so; test_sparse_fields.py checks those answers).
        (case.query or {}).pop("fields", None)
    if positive and "sync" in (case.query or {}):
        # A sync listing takes no ordering, cursor, offset or filter (its parameter says so).
        for name in set(case.query) - SYNC_PARAMETERS:
            case.query.pop(name)
    body = case.body
    if not isinstance(body, dict):
        return case
    if isinstance(body.get("rows"), list) and isinstance(body.get("atomic", True), bool):
        # A bulk row may be schema-valid and still not apply to the stored data (a new item
        # without the fields a creation needs, a key given twice): valid bodies are sent in
        # per-row mode (such rows are reported, 200), invalid ones all-or-nothing (a 400).
        body["atomic"] = not positive
    password = body.get("password")
    if isinstance(password, str) and 8 <= len(password) <= 128:
        body["password"] = "uncommon-fuzz-passphrase-41"
    if positive and isinstance(body.get("expires_at"), str):
        body["expires_at"] = "2999-01-01T00:00:00Z"  # a valid expiry lies in the future
    if positive:
        # current_password belongs to a change of one's own password, which takes the current
        # one (no schema knows it): such bodies are refused, rightly.
        body.pop("current_password", None)
        if case.path.endswith("/me/"):
            body.pop("password", None)
    for reference in ("project_id", "issue_id"):
        value = body.get(reference)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            body[reference] = None
    return case


# What a sync listing takes besides its token.
SYNC_PARAMETERS = frozenset({"sync", "limit", "include_deleted", "include_ml_fields", "client_id"})

CREDENTIALS: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class BearerToken:
    """The fuzzing admin's token, so schemathesis knows which credentials are the valid ones."""

    def get(self, case, context) -> str:
        return CREDENTIALS.get("token", "")

    def set(self, case, data, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def token(tenant_a) -> str:
    admin = UserFactory(client=tenant_a, role="admin")
    CREDENTIALS["token"] = ApiToken.issue(user=admin)[1]
    yield CREDENTIALS["token"]
    CREDENTIALS.clear()


# Transactional, like production: a raw WSGI call runs Django's per-request connection
# housekeeping, which would close a connection held open by a test transaction.
@pytest.mark.django_db(transaction=True, databases="__all__")
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_conforms(case, token):
    case.call_and_validate()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_stateful_links(token, tenant_a):
    class Scenario(schema.as_state_machine()):
        """Each scenario starts from the same empty tenant, so a scenario meets the same state."""

        def teardown(self):
            for model in (PullRequest, Issue, Project):
                model.objects.filter(client=tenant_a).delete()
            User.objects.filter(client=tenant_a, api_tokens__isnull=True).delete()

    # Generate only: replaying a scenario cannot reproduce the ids the server handed out, which
    # hypothesis would report as flaky data generation.
    Scenario.run(
        settings=hypothesis_settings(
            FUZZ_SETTINGS,
            max_examples=max(EXAMPLES, 5),
            stateful_step_count=6,
            phases=[Phase.explicit, Phase.generate],
        )
    )
