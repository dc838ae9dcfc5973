"""The ML tables in the Django admin: read-only, filterable, and alerts can be acknowledged."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as BrowserClient
from django.utils import timezone

from mlmonitoring.models import AnomalyAlert, LearningMemory, PredictionLog
from mlmonitoring.services import anomaly_alert_acknowledge
from mlmonitoring.tests.factories import (
    AnomalyAlertFactory,
    LearningMemoryFactory,
    PredictionLogFactory,
)
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLES = {
    "learningmemory": (LearningMemory, LearningMemoryFactory),
    "predictionlog": (PredictionLog, PredictionLogFactory),
    "anomalyalert": (AnomalyAlert, AnomalyAlertFactory),
}


@pytest.fixture
def operator(tenant_a):
    return UserFactory(client=tenant_a, role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def browser(operator) -> BrowserClient:
    client = BrowserClient()
    client.force_login(operator)
    return client


@pytest.fixture(params=list(TABLES))
def table(request):
    model, factory = TABLES[request.param]
    return {"url": f"/admin/mlmonitoring/{request.param}/", "model": model, "factory": factory}


def test_changelist_lists_filters_and_searches(browser, table, tenant_a, tenant_b):
    mine = table["factory"](client=tenant_a)
    table["factory"](client=tenant_b)
    page = browser.get(table["url"])
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2
    filtered = browser.get(table["url"], {"client__id__exact": tenant_a.pk})
    assert [row.pk for row in filtered.context["cl"].result_list] == [mine.pk]
    searched = browser.get(table["url"], {"q": "no-such-thing-anywhere"})
    assert searched.context["cl"].result_count == 0
    today = timezone.now()
    by_day = browser.get(
        table["url"],
        {"created_at__year": today.year, "created_at__month": today.month},
    )
    assert by_day.context["cl"].result_count == 2


def test_add_change_and_delete_are_refused(browser, table, tenant_a):
    row = table["factory"](client=tenant_a)
    before = table["model"].objects.filter(pk=row.pk).values().get()
    assert browser.get(f"{table['url']}add/").status_code == 403
    assert browser.post(f"{table['url']}add/", {"client": tenant_a.pk}).status_code == 403
    # The change page shows the row read-only; posting to it is refused.
    view = browser.get(f"{table['url']}{row.pk}/change/")
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert browser.post(f"{table['url']}{row.pk}/change/", {"active": ""}).status_code == 403
    assert browser.get(f"{table['url']}{row.pk}/delete/").status_code == 403
    assert browser.post(f"{table['url']}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert table["model"].objects.filter(pk=row.pk).values().get() == before


def test_bulk_delete_is_not_offered(browser, table):
    form = browser.get(table["url"]).context["action_form"]
    offered = [name for name, _ in form.fields["action"].choices] if form else []
    assert "delete_selected" not in offered
    assert offered == (["", "acknowledge"] if table["model"] is AnomalyAlert else [])


def test_acknowledge_action(browser, operator, tenant_a):
    first, second, untouched = (AnomalyAlertFactory(client=tenant_a) for _ in range(3))
    response = browser.post(
        "/admin/mlmonitoring/anomalyalert/",
        {"action": "acknowledge", "_selected_action": [first.pk, second.pk], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    assert "Acknowledged 2 alert(s)." in [str(m) for m in response.context["messages"]]
    for alert in (first, second):
        alert.refresh_from_db()
        assert alert.acknowledged is True
        assert alert.acknowledged_by_id == operator.pk
        assert abs((timezone.now() - alert.acknowledged_at).total_seconds()) < 60
    untouched.refresh_from_db()
    assert (untouched.acknowledged, untouched.acknowledged_by, untouched.acknowledged_at) == (
        False,
        None,
        None,
    )


def test_acknowledging_again_keeps_the_first_acknowledgement(operator, tenant_a):
    earlier = timezone.now() - timezone.timedelta(days=2)
    first_by = UserFactory(client=tenant_a, role="admin")
    done = AnomalyAlertFactory(
        client=tenant_a, acknowledged=True, acknowledged_by=first_by, acknowledged_at=earlier
    )
    fresh = AnomalyAlertFactory(client=tenant_a)
    changed = anomaly_alert_acknowledge(alerts=AnomalyAlert.objects.all(), by=operator)
    assert changed == 1
    done.refresh_from_db()
    fresh.refresh_from_db()
    assert (done.acknowledged_by_id, done.acknowledged_at) == (first_by.pk, earlier)
    assert fresh.acknowledged_by_id == operator.pk


def test_staff_who_may_only_view_see_alerts_but_cannot_acknowledge(tenant_a):
    alert = AnomalyAlertFactory(client=tenant_a)
    viewer = UserFactory(client=tenant_a, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_anomalyalert"))
    browser = BrowserClient()
    browser.force_login(viewer)
    page = browser.get("/admin/mlmonitoring/anomalyalert/")
    assert page.status_code == 200
    assert page.context["action_form"] is None  # no action offered at all
    browser.post(
        "/admin/mlmonitoring/anomalyalert/",
        {"action": "acknowledge", "_selected_action": [alert.pk], "index": 0},
    )
    alert.refresh_from_db()
    assert alert.acknowledged is False


def test_staff_with_the_change_permission_may_acknowledge(tenant_a):
    alert = AnomalyAlertFactory(client=tenant_a)
    staff = UserFactory(client=tenant_a, is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_anomalyalert", "change_anomalyalert"])
    )
    browser = BrowserClient()
    browser.force_login(staff)
    assert browser.get(f"/admin/mlmonitoring/anomalyalert/{alert.pk}/change/").status_code == 200
    assert browser.post(f"/admin/mlmonitoring/anomalyalert/{alert.pk}/change/").status_code == 403
    browser.post(
        "/admin/mlmonitoring/anomalyalert/",
        {"action": "acknowledge", "_selected_action": [alert.pk], "index": 0},
    )
    alert.refresh_from_db()
    assert (alert.acknowledged, alert.acknowledged_by_id) == (True, staff.pk)
