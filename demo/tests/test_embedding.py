"""The demo's local text embedding, and the similarity search it makes meaningful."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from core.fields import EMBEDDING_DIMENSIONS
from demo import content
from demo.embedding import text_embedding
from demo.services import DemoSize, demo_seed
from issues.models import Issue
from projects.models import Project
from pullrequests.models import PullRequest


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_the_embedding_is_a_deterministic_unit_vector():
    vector = text_embedding("Fix the login flow")
    assert len(vector) == EMBEDDING_DIMENSIONS
    assert math.isclose(math.fsum(x * x for x in vector), 1.0)
    assert vector == text_embedding("fix THE login-flow!")  # case, stop words and punctuation
    assert text_embedding("") is None and text_embedding("the of, and...") is None


def test_texts_on_one_topic_are_closer_than_texts_on_another():
    login = text_embedding("Users are logged out of the login page after the SSO redirect")
    same_topic = text_embedding("Harden the login flow: the SSO login session expires")
    other_topic = text_embedding("Schedule the nightly backup after the sync window")
    assert cosine(login, same_topic) > 0.2 > 0.1 > cosine(login, other_topic)
    # Shared word stems count too (character trigrams): "exports" is near "export".
    assert cosine(text_embedding("CSV exports"), text_embedding("export to CSV")) > 0.3


@pytest.mark.django_db
def test_seeded_issues_have_their_topic_siblings_as_nearest_neighbours(api):
    result = demo_seed(size=DemoSize())
    tenant = content.TENANTS[0]
    [login] = [login for login in result.logins if login.email == f"admin@{tenant.domain}"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.token}")

    issues = Issue.objects.filter(client__name=tenant.name)
    assert issues.count() == DemoSize().issues
    assert not issues.filter(embedding__isnull=True).exists()
    assert not Project.objects.filter(embedding__isnull=True).exists()
    assert not PullRequest.objects.filter(embedding__isnull=True).exists()
    by_topic = defaultdict(set)
    for issue in issues:
        by_topic[issue.description].add(issue.pk)
    assert len(by_topic) > 5, "the demo's issues should span many topics"

    checked = 0
    for siblings in by_topic.values():
        for pk in siblings:
            others = siblings - {pk}
            if not others:
                continue
            body = client.get(f"/api/issues/{pk}/similar", {"limit": len(others)}).json()
            assert {item["id"] for item in body["issues"]} == others
            checked += 1
    assert checked > DemoSize().issues / 2
