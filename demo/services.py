"""Seeding and removing the demo data set: clients, accounts with API tokens, work items, ML rows.

Seeding is idempotent by natural keys (client name, email, project key, issue key, repository
and number); the ML tables have no natural key, so each demo client is topped up to the asked
number of rows. Demo clients are recognised by name (``content.DEMO_CLIENT_NAMES``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core.models import Client
from demo import content
from demo.embedding import text_embedding
from issues.models import Issue
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from projects.models import Project
from pullrequests.models import PullRequest
from users.models import ApiToken, User, token_digest

BATCH_SIZE = 500

# progress(what, done, total): called after each batch of new rows.
Progress = Callable[[str, int, int], None]

# Deletion order: rows before what they point at.
DEMO_MODELS: dict[str, type[models.Model]] = {
    "pull requests": PullRequest,
    "issues": Issue,
    "projects": Project,
    "learning memories": LearningMemory,
    "prediction logs": PredictionLog,
    "anomaly alerts": AnomalyAlert,
    "users": User,
}
REPORT_ORDER = (
    "users", "api tokens", "projects", "issues", "pull requests", "learning memories",
    "prediction logs", "anomaly alerts",
)  # fmt: skip


class DemoDataError(Exception):
    """The demo data cannot be seeded as asked (a demo email is taken by a real client)."""


@dataclass(frozen=True)
class DemoSize:
    """How many rows of each kind every demo client gets."""

    projects: int = 4
    issues: int = 40
    pull_requests: int = 30
    ml_rows: int = 25


@dataclass(frozen=True)
class DemoLogin:
    """A demo account and its API token."""

    client: str
    email: str
    role: str
    token: str
    superuser: bool = False


@dataclass
class DemoSeedResult:
    """The demo accounts, and how many rows of each kind this run added."""

    logins: list[DemoLogin] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)


def demo_password() -> str:
    """The demo accounts' password: derived from SECRET_KEY (this checkout's own, never a
    published one), so each instance has its own and a re-run prints it again."""
    mac = hmac.new(settings.SECRET_KEY.encode(), b"demo-password", hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:16]


def demo_token_key(email: str) -> str:
    """The API token of a demo account: derived from SECRET_KEY, so a re-run prints it again
    without storing it (only its digest is stored, as for every token)."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"demo-token:{email}".encode(), hashlib.sha256)
    return "demo-" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")[:38]


def database_is_empty() -> bool:
    """No client at all (asked of the primary: a fresh standby may lag behind)."""
    return not Client.objects.using("default").exists()


def demo_counts() -> dict[str, int]:
    """Rows of each kind that belong to the demo clients."""
    clients = Client.objects.using("default").filter(name__in=content.DEMO_CLIENT_NAMES)
    owned = {
        label: model.objects.using("default").filter(client__in=clients).count()
        for label, model in DEMO_MODELS.items()
    }
    owned["api tokens"] = ApiToken.objects.using("default").filter(user__client__in=clients).count()
    return {"clients": clients.count(), **{kind: owned[kind] for kind in REPORT_ORDER}}


@transaction.atomic
def demo_reset() -> dict[str, int]:
    """Delete the demo clients and everything they own; returns what was removed, by kind."""
    clients = Client.objects.filter(name__in=content.DEMO_CLIENT_NAMES)
    removed = {}
    for label, model in DEMO_MODELS.items():
        _, by_model = model.objects.filter(client__in=clients).delete()
        removed[label] = by_model.get(model._meta.label, 0)
    _, by_model = clients.delete()
    removed["clients"] = by_model.get(Client._meta.label, 0)
    return removed


def demo_seed(*, size: DemoSize, progress: Progress | None = None) -> DemoSeedResult:
    """Create whatever of the demo data set is missing; returns the logins and what was added."""
    result = DemoSeedResult()
    now = timezone.now()
    with transaction.atomic():
        operator_client = _client(content.OPERATOR_CLIENT, result)
        operator = _account(
            operator_client, content.OPERATOR_EMAIL, "admin", ("Olga", "Operator"), result
        )
        if not (operator.is_staff and operator.is_superuser):
            raise DemoDataError(f"{content.OPERATOR_EMAIL} exists but is not a superuser")
    for tenant in content.TENANTS:
        # One transaction per client: a failure leaves whole clients, never half of one.
        with transaction.atomic():
            client = _client(tenant.name, result)
            accounts = {
                role: _account(client, f"{role}@{tenant.domain}", role, (first, last), result)
                for role, first, last in content.ACCOUNTS
            }
            projects = _projects(client, size.projects, result)
            issue_keys = _issues(client, tenant, projects, size.issues, now, result, progress)
            _pull_requests(client, tenant, issue_keys, size.pull_requests, now, result, progress)
            _embed_missing(client, result)
            _ml_rows(client, tenant, accounts["admin"], size.ml_rows, now, result, progress)
    return result


def _client(name: str, result: DemoSeedResult) -> Client:
    client, created = Client.objects.get_or_create(name=name)
    result.created["clients"] += created
    return client


def _account(
    client: Client, email: str, role: str, names: tuple[str, str], result: DemoSeedResult
) -> User:
    # Addresses are unique per client: another client's account with this address is not ours.
    user = User.objects.filter(client=client, email__iexact=email, active=True).first()
    operator = email == content.OPERATOR_EMAIL
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=demo_password(),
            client=client,
            role=role,
            first_name=names[0],
            last_name=names[1],
            is_staff=operator,
            is_superuser=operator,
        )
        result.created["users"] += 1
    key = demo_token_key(email)
    _, created = ApiToken.objects.get_or_create(
        digest=token_digest(key), defaults={"user": user, "name": "demo", "prefix": key[:8]}
    )
    result.created["api tokens"] += created
    result.logins.append(DemoLogin(client.name, email, user.role, key, user.is_superuser))
    return user


def _projects(client: Client, count: int, result: DemoSeedResult) -> list[Project]:
    existing = {project.key: project for project in Project.objects.filter(client=client)}
    wanted = [
        content.PROJECTS[n] if n < len(content.PROJECTS) else (f"PRJ{n + 1}", f"Project {n + 1}", "software")
        for n in range(count)
    ]  # fmt: skip
    new = [
        Project(client=client, key=key, name=name, project_type=kind, external_id=f"{10000 + n}")
        for n, (key, name, kind) in enumerate(wanted)
        if key not in existing
    ]
    Project.objects.bulk_create(new)
    result.created["projects"] += len(new)
    existing.update({project.key: project for project in new})
    return [existing[key] for key, _, _ in wanted]


def _issues(
    client: Client,
    tenant: content.DemoTenant,
    projects: list[Project],
    count: int,
    now: datetime,
    result: DemoSeedResult,
    progress: Progress | None,
) -> list[str]:
    """Issues PLAT-1, WEB-1, ..., PLAT-2, ... spread over the projects; returns their keys."""
    if not projects:
        return []
    wanted = [
        (f"{projects[n % len(projects)].key}-{n // len(projects) + 1}", projects[n % len(projects)])
        for n in range(count)
    ]
    existing = set(Issue.objects.filter(client=client).values_list("key", flat=True))
    rows = (
        Issue(
            client=client,
            project=project,
            key=key,
            **content.issue_values(
                content.rng_for(client.name, "issue", key), team_names=tenant.team_names, now=now
            ),
        )
        for key, project in wanted
        if key not in existing
    )
    missing = sum(1 for key, _ in wanted if key not in existing)
    _insert(Issue, rows, missing, f"{client.name}: issues", result, progress)
    return [key for key, _ in wanted]


def _pull_requests(
    client: Client,
    tenant: content.DemoTenant,
    issue_keys: list[str],
    count: int,
    now: datetime,
    result: DemoSeedResult,
    progress: Progress | None,
) -> None:
    """Pull requests over the tenant's repositories; about 60% name and link an issue."""
    issue_ids = dict(Issue.objects.filter(client=client).values_list("key", "id"))
    existing = set(PullRequest.objects.filter(client=client).values_list("repository", "number"))
    repositories = [f"{tenant.org}/{name}" for name in content.REPOSITORIES]
    wanted = [
        (repositories[n % len(repositories)], n // len(repositories) + 1) for n in range(count)
    ]
    missing = [(repository, number) for repository, number in wanted if (repository, number) not in existing]  # fmt: skip

    def build(repository: str, number: int) -> PullRequest:
        rng = content.rng_for(client.name, "pull request", repository, number)
        issue_key = rng.choice(issue_keys) if issue_keys and rng.random() < 0.6 else None
        values = content.pull_request_values(
            rng, repository=repository, number=number, issue_key=issue_key, now=now
        )
        return PullRequest(
            client=client,
            repository=repository,
            number=number,
            issue_id=issue_ids.get(issue_key),
            **values,
        )

    rows = (build(repository, number) for repository, number in missing)
    _insert(PullRequest, rows, len(missing), f"{client.name}: pull requests", result, progress)


# What each kind of row is embedded from (demo.embedding): its words, for similarity search.
EMBEDDED_TEXT: dict[type[models.Model], Callable[[models.Model], str]] = {
    Project: lambda project: project.name,
    Issue: lambda issue: f"{issue.summary}. {issue.description}",
    PullRequest: lambda pull_request: f"{pull_request.name}. {pull_request.body}",
}


def _embed_missing(client: Client, result: DemoSeedResult) -> None:
    """Give every demo row of ``client`` that has none its text's embedding (new rows, and rows
    seeded before the demo had embeddings)."""
    for model, text_of in EMBEDDED_TEXT.items():
        missing = model.objects.filter(client=client, embedding__isnull=True)
        for batch in itertools.batched(missing.iterator(chunk_size=BATCH_SIZE), BATCH_SIZE):
            for row in batch:
                row.embedding = text_embedding(text_of(row))
            model.objects.bulk_update(batch, ["embedding"])
            result.created["embeddings"] += len(batch)


def _ml_rows(
    client: Client,
    tenant: content.DemoTenant,
    acknowledger: User,
    count: int,
    now: datetime,
    result: DemoSeedResult,
    progress: Progress | None,
) -> None:
    """Top each ML table of the client up to ``count`` rows, written over the last 30 days."""
    builders = {
        LearningMemory: lambda rng, created_at: content.learning_memory_values(
            rng, team=rng.choice(tenant.team_names)
        ),
        PredictionLog: lambda rng, created_at: content.prediction_log_values(rng),
        AnomalyAlert: lambda rng, created_at: _alert_values(rng, created_at, acknowledger, now),
    }
    for model, values_of in builders.items():
        first = model.objects.filter(client=client).count()

        def build(n: int, model=model, values_of=values_of) -> models.Model:
            rng = content.rng_for(client.name, model._meta.db_table, n)
            written_at = content.ml_row_created_at(rng, now=now)
            row = model(client=client, **values_of(rng, written_at))
            # Django sets created_at itself on insert (auto_now_add); keep the intended time.
            row.backdate_to = written_at
            return row

        def backdate(batch: list[models.Model], model=model) -> None:
            for row in batch:
                row.created_at = row.backdate_to
                row.last_updated_at = getattr(row, "acknowledged_at", None) or row.created_at
            model.objects.bulk_update(batch, ["created_at", "last_updated_at"])

        label = f"{client.name}: {model._meta.verbose_name_plural}"
        rows = (build(n) for n in range(first, count))
        _insert(model, rows, max(count - first, 0), label, result, progress, after_batch=backdate)


def _alert_values(
    rng: random.Random, created_at: datetime, acknowledger: User, now: datetime
) -> dict:
    values = content.anomaly_alert_values(rng, created_at=created_at, now=now)
    values["acknowledged_by"] = acknowledger if values["acknowledged"] else None
    return values


def _insert(
    model: type[models.Model],
    rows: Iterable[models.Model],
    total: int,
    label: str,
    result: DemoSeedResult,
    progress: Progress | None,
    after_batch: Callable[[list[models.Model]], None] | None = None,
) -> None:
    """bulk_create ``rows`` in batches (memory stays flat on large runs), reporting progress."""
    done = 0
    batch: list[models.Model] = []
    # A trailing None flushes the last, short batch.
    for row in itertools.chain(rows, [None]):
        if row is not None:
            batch.append(row)
        if batch and (len(batch) == BATCH_SIZE or row is None):
            model.objects.bulk_create(batch)
            if after_batch:
                after_batch(batch)
            done += len(batch)
            batch = []
            if progress:
                progress(label, done, total)
    result.created[str(model._meta.verbose_name_plural)] += done
