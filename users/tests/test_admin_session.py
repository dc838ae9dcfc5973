"""An operator's session follows their account on the primary, not on a lagging standby."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client as BrowserClient

from core.db import replicas
from core.testing import standby_delay, wait_for_standby
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_a_deactivated_operator_is_logged_out_while_the_standby_lags(tenant_a):
    operator = UserFactory(client=tenant_a, role="admin", is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(operator)
    assert browser.get("/admin/").status_code == 200
    with standby_delay(30):
        operator.active = False
        operator.save()
        # The standby still has the operator active for 30 s; the session reads the primary.
        response = browser.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_operator_keeps_working_while_the_primary_is_down(tenant_a):
    operator = UserFactory(client=tenant_a, role="admin", is_staff=True, is_superuser=True)
    browser = BrowserClient()
    browser.force_login(operator)
    for alias in settings.REPLICA_ALIASES:
        wait_for_standby(alias)
    replicas.mark_down("default")
    assert browser.get("/admin/users/user/").status_code == 200
