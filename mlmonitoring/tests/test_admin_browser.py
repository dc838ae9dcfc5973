"""A real browser acknowledges an anomaly alert in the Django admin served by a live server.

Chromium is Debian's (/usr/bin/chromium, installed by ``make browser``); Playwright only
drives it. The test touches the database before the browser starts and after it has closed:
Playwright's sync API runs an event loop in this thread while it is open, and Django refuses
ORM calls from a thread with a running event loop, so no ORM call happens inside that window
(and DJANGO_ALLOW_ASYNC_UNSAFE is not needed).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from core.testing import wait_for_standby
from mlmonitoring.models import AnomalyAlert
from mlmonitoring.tests.factories import AnomalyAlertFactory
from users.tests.factories import UserFactory

# The live server runs in another thread with its own connections: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "browser-test-password"


def test_operator_acknowledges_an_alert_in_the_admin(live_server, tenant_a):
    operator = UserFactory(
        client=tenant_a,
        role="admin",
        is_staff=True,
        is_superuser=True,
        email="operator@example.test",
        password=PASSWORD,
    )
    target, other = AnomalyAlertFactory(client=tenant_a), AnomalyAlertFactory(client=tenant_a)
    wait_for_standby()  # the login and the first pages are read from the standby
    static_statuses: dict[str, int] = {}
    started = timezone.now()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.on(
                "response",
                lambda response: (
                    static_statuses.__setitem__(response.url, response.status)
                    if "/static/" in response.url
                    else None
                ),
            )
            page.goto(f"{live_server.url}/admin/login/?next=/admin/mlmonitoring/anomalyalert/")
            page.fill("#id_username", operator.email)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/mlmonitoring/anomalyalert/")
            heading = page.inner_text("h1")
            # The admin's stylesheet applied: the header bar is coloured, not default white.
            header_colour = page.eval_on_selector(
                "#header", "element => getComputedStyle(element).backgroundColor"
            )

            page.check(f"input[name=_selected_action][value='{target.pk}']")
            page.select_option("select[name=action]", "acknowledge")
            page.click("button[name=index]")
            page.wait_for_selector(".messagelist .success")
            message = page.inner_text(".messagelist .success")
            target_row = f"tr:has(input[name=_selected_action][value='{target.pk}'])"
            other_row = f"tr:has(input[name=_selected_action][value='{other.pk}'])"
            target_icon = page.get_attribute(f"{target_row} td.field-acknowledged img", "alt")
            other_icon = page.get_attribute(f"{other_row} td.field-acknowledged img", "alt")
        finally:
            browser.close()

    assert heading == "Select anomaly alert to view"
    assert header_colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    assert any(url.endswith("/static/admin/css/base.css") for url in static_statuses)
    assert set(static_statuses.values()) == {200}, static_statuses
    assert message == "Acknowledged 1 alert(s)."
    assert (target_icon, other_icon) == ("True", "False")

    acknowledged = AnomalyAlert.objects.using("default").get(pk=target.pk)
    assert acknowledged.acknowledged is True
    assert acknowledged.acknowledged_by_id == operator.pk
    assert started <= acknowledged.acknowledged_at <= timezone.now() + timedelta(seconds=1)
    untouched = AnomalyAlert.objects.using("default").get(pk=other.pk)
    assert (untouched.acknowledged, untouched.acknowledged_by_id) == (False, None)
