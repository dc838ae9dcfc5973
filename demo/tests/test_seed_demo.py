"""``seed_demo``: idempotent, scalable, removable, and its accounts really work."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from core.models import Client
from core.tests.factories import ClientFactory
from demo import content
from demo.services import demo_counts, demo_password
from issues.models import Issue
from issues.tests.factories import IssueFactory
from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from pullrequests.models import PullRequest
from users.models import User

pytestmark = pytest.mark.django_db

SMALL = ["--projects", "2", "--issues", "6", "--pull-requests", "4", "--ml-rows", "5"]


@pytest.fixture(autouse=True)
def _debug_on(settings):
    # The command refuses to create accounts with a published password when DEBUG is off.
    settings.DEBUG = True


def seed(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def printed_tokens(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+.+?\s+\w+\s+(\S+@\S+)\s+(demo-\S+)$", output, re.MULTILINE))


def bearer_client(api, token: str):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_seeding_twice_gives_the_same_rows_and_the_same_tokens():
    first_output, _ = seed(*SMALL)
    first = demo_counts()
    second_output, _ = seed(*SMALL)
    assert demo_counts() == first
    assert first == {
        "clients": 4,
        "users": 10,
        "api tokens": 10,
        "projects": 6,
        "issues": 18,
        "pull requests": 12,
        "learning memories": 15,
        "prediction logs": 15,
        "anomaly alerts": 15,
    }
    assert "Added: nothing (all there)." in second_output
    assert printed_tokens(first_output) == printed_tokens(second_output)
    assert len(printed_tokens(first_output)) == 10


def test_the_printed_logins_work(api, client):
    """``client`` is Django's test browser, for the admin login."""
    output, _ = seed(*SMALL)
    tokens = printed_tokens(output)
    admin = bearer_client(api, tokens["admin@acme.demo.example"])
    alerts = admin.get("/api/ml/anomaly-alerts")
    assert alerts.status_code == 200
    assert alerts.json()["total_count"] == 5
    assert admin.get("/api/issues").json()["total_count"] == 6
    viewer = bearer_client(api, tokens["viewer@acme.demo.example"])
    assert viewer.get("/api/ml/anomaly-alerts").status_code == 403
    [password] = [
        line.rsplit(": ", 1)[1] for line in output.splitlines() if "Password of every" in line
    ]
    assert password == demo_password() and len(password) == 16
    # The operator logs into the admin with the printed password.
    assert client.login(username=content.OPERATOR_EMAIL, password=password)
    assert client.get("/admin/mlmonitoring/anomalyalert/").status_code == 200


def test_scaling_up_adds_only_what_is_missing():
    seed(*SMALL)
    acme = Client.objects.get(name=f"Acme Robotics{content.DEMO_SUFFIX}")
    before = set(Issue.objects.filter(client=acme).values_list("id", flat=True))
    out, _ = seed("--projects", "2", "--issues", "9", "--pull-requests", "4", "--ml-rows", "7")
    after = set(Issue.objects.filter(client=acme).values_list("id", flat=True))
    assert before < after and len(after) == 9
    assert sorted(Issue.objects.filter(client=acme).values_list("key", flat=True)) == sorted(
        [f"PLAT-{n}" for n in range(1, 6)] + [f"WEB-{n}" for n in range(1, 5)]
    )
    assert AnomalyAlert.objects.filter(client=acme).count() == 7
    assert (
        "Added: 9 issues, 9 embeddings, 6 learning memories, 6 prediction logs, 6 anomaly alerts."
        in out
    )


def test_long_runs_show_a_progress_bar_on_stderr():
    _, err = seed("--projects", "1", "--issues", "1000", "--pull-requests", "0", "--ml-rows", "0")
    assert "Acme Robotics (demo): issues [###" in err
    assert "1000/1000\n" in err
    _, quiet = seed(*SMALL)
    assert quiet == ""


def test_rows_are_consistent_and_realistic():
    seed(*SMALL)
    for client in Client.objects.filter(name__in=[t.name for t in content.TENANTS]):
        admin = User.objects.get(client=client, role="admin")
        for alert in AnomalyAlert.objects.filter(client=client, acknowledged=True):
            assert alert.acknowledged_by_id == admin.pk
            assert alert.created_at <= alert.acknowledged_at
        assert not AnomalyAlert.objects.filter(
            client=client, acknowledged=False, acknowledged_by__isnull=False
        ).exists()
        # Written over the last weeks, not all at the same instant.
        assert LearningMemory.objects.filter(client=client).values("created_at").distinct().count() == 5  # fmt: skip
        assert all(0 <= c <= 1 for c in LearningMemory.objects.values_list("confidence", flat=True))
        for log in PredictionLog.objects.filter(client=client):
            assert log.is_anomaly == (log.severity != "normal")
        linked = PullRequest.objects.filter(client=client, issue__isnull=False)
        assert not linked.exclude(issue__client=F("client")).exists()
    assert PullRequest.objects.filter(issue__isnull=False).exists()


def test_reset_removes_the_demo_data_and_nothing_else():
    real = ClientFactory(name="A real customer")
    real_issue = IssueFactory(client=real)
    seed(*SMALL)
    out, _ = seed("--reset", "--projects", "0", "--issues", "0", "--pull-requests", "0", "--ml-rows", "0")  # fmt: skip
    assert "Removed demo data: 12 pull requests, 18 issues, 6 projects" in out
    assert demo_counts()["issues"] == 0
    assert demo_counts()["clients"] == 4  # seeded again, empty as asked
    assert Issue.objects.filter(pk=real_issue.pk).exists()
    assert Client.objects.filter(pk=real.pk).exists()


def test_if_empty_seeds_an_empty_database_only():
    out, _ = seed("--if-empty", *SMALL)
    assert demo_counts()["issues"] == 18
    out, _ = seed("--if-empty", "--issues", "50")
    assert "nothing seeded" in out
    assert demo_counts()["issues"] == 18


def test_debug_off_refuses_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed(*SMALL)
    assert demo_counts()["clients"] == 0
    out, _ = seed("--if-empty", *SMALL)
    assert "skipped" in out and demo_counts()["clients"] == 0
    seed("--force", *SMALL)
    assert demo_counts()["clients"] == 4


@pytest.mark.parametrize("value", ["-1", "abc", "1000001"])
def test_bad_counts_are_refused(value):
    with pytest.raises(CommandError, match="--issues"):
        seed("--issues", value)


def test_a_demo_email_used_by_a_real_client_is_that_clients_own(api):
    """Addresses are unique per client: a real client's account with a demo address is neither
    taken over nor in the way."""
    real = User.objects.create_user(
        email="admin@acme.demo.example", client=ClientFactory(name="Real"), role="viewer"
    )
    output, _ = seed(*SMALL)
    demo_admin = User.objects.get(
        email="admin@acme.demo.example", client__name=content.TENANTS[0].name
    )
    assert demo_admin.pk != real.pk and demo_admin.role == "admin"
    real.refresh_from_db()
    assert real.role == "viewer"
    token = printed_tokens(output)["admin@acme.demo.example"]
    response = bearer_client(api, token).get("/api/issues")
    assert (
        response.status_code == 200
        and response.json()["issues"][0]["client_id"] == demo_admin.client_id
    )
