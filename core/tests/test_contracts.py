"""The start-up checks that hold the code to what it promises (``core.checks``), and the traps
they guard: a list fast path that would bypass a serializer's logic, ordering by another table,
ATOMIC_REQUESTS, reads inside ``atomic()`` in a request that only reads."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework import serializers

from core.api.rows import plan_problems, row_plan
from core.api.viewsets import api_viewsets
from core.checks import atomic_requests_errors, no_atomic_requests, viewset_contract_errors
from core.db import router
from issues.serializers import IssueSerializer
from issues.views import IssueViewSet


def test_the_project_passes_its_own_checks():
    call_command("check", fail_level="WARNING")
    assert viewset_contract_errors(api_viewsets()) == []


def test_every_routed_tenant_resource_is_covered():
    names = {viewset.__name__ for viewset in api_viewsets()}
    assert {"IssueViewSet", "PullRequestViewSet", "ProjectViewSet", "UserViewSet"} <= names
    assert {"AnomalyAlertViewSet", "PredictionLogViewSet", "LearningMemoryViewSet"} <= names


class MaskingIssueSerializer(IssueSerializer):
    """Hides the assignee from viewers: output that depends on the caller."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("role") == "viewer":
            data.pop("assignee", None)
        return data


class MethodFieldIssueSerializer(IssueSerializer):
    age = serializers.SerializerMethodField()

    class Meta(IssueSerializer.Meta):
        fields = (*IssueSerializer.Meta.fields, "age")

    def get_age(self, issue) -> int:
        return 0


@pytest.mark.parametrize(
    ("serializer", "said"),
    [
        (MaskingIssueSerializer, "defines to_representation"),
        (MethodFieldIssueSerializer, "age is not a plain column"),
    ],
)
def test_a_serializer_the_row_plan_cannot_honour_stops_start_up(serializer, said):
    viewset = type("CheckedViewSet", (IssueViewSet,), {"serializer_class": serializer})
    assert any(said in problem for problem in plan_problems(serializer, False))
    # Never served from rows, even if the check were skipped.
    assert row_plan(serializer, False) is None
    errors = viewset_contract_errors([viewset])
    assert errors and {error.id for error in errors} == {"core.E002"}
    assert said in errors[0].msg


def test_a_serializer_that_has_not_opted_in_keeps_the_serializer_path():
    plain = type("PlainIssueSerializer", (MaskingIssueSerializer,), {"list_from_rows": False})
    viewset = type("CheckedViewSet", (IssueViewSet,), {"serializer_class": plain})
    assert row_plan(plain, False) is None
    assert viewset_contract_errors([viewset]) == []


@pytest.mark.parametrize("term", ["project__key", "project", "-project__key", "no_such_column"])
def test_ordering_by_anything_but_a_local_column_stops_start_up(term):
    viewset = type(
        "CheckedViewSet",
        (IssueViewSet,),
        {"ordering_fields": (*IssueViewSet.ordering_fields, term.lstrip("-"))},
    )
    errors = viewset_contract_errors([viewset])
    assert [error.id for error in errors] == ["core.E003"]
    assert repr(term.lstrip("-")) in errors[0].msg
    default = type("CheckedViewSet", (IssueViewSet,), {"ordering": (term, "-id")})
    assert [error.id for error in viewset_contract_errors([default])] == ["core.E003"]


def test_atomic_requests_stops_start_up(settings):
    assert no_atomic_requests(None) == []
    databases = {**settings.DATABASES, "default": {**settings.DATABASES["default"]}}
    databases["default"]["ATOMIC_REQUESTS"] = True
    [error] = atomic_requests_errors(databases)
    assert error.id == "core.E001" and "'default'" in error.msg


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_read_inside_atomic_in_a_read_only_request_is_reported(caplog, monkeypatch):
    from core.db.state import request_scope

    monkeypatch.setattr(router, "_reported_views", set())
    from issues.models import Issue

    with caplog.at_level(logging.WARNING, logger="core.db.router"), request_scope() as state:
        state.read_only_view = "SomeViewSet"
        with transaction.atomic():
            list(Issue.objects.all()[:1])
            list(Issue.objects.all()[:1])
        # Outside the transaction: a standby, nothing to report.
        list(Issue.objects.all()[:1])
    reports = [r for r in caplog.records if "inside transaction.atomic()" in r.getMessage()]
    assert len(reports) == 1 and "SomeViewSet" in reports[0].getMessage()
