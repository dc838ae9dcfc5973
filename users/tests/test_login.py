"""Logging in by email when an address may have an account in several clients."""

import pytest
from django.contrib.auth import authenticate

from users.models import User

pytestmark = pytest.mark.django_db


def test_a_login_picks_the_account_whose_password_matches(tenant_a, tenant_b, client):
    operator = User.objects.create_user(
        email="same@example.test", password="Operator-Pass-1", client=tenant_a, is_staff=True
    )
    member = User.objects.create_user(
        email="same@example.test", password="Member-Pass-2", client=tenant_b
    )
    assert authenticate(username="same@example.test", password="Operator-Pass-1") == operator
    assert authenticate(username="SAME@example.test", password="Member-Pass-2") == member
    assert authenticate(username="same@example.test", password="wrong-password") is None
    assert authenticate(username="nobody@example.test", password="Member-Pass-2") is None
    # The admin lets the operator in; the member's matching password is not an operator's.
    assert client.login(username="same@example.test", password="Operator-Pass-1")
    assert client.get("/admin/").status_code == 200
    client.logout()
    assert client.login(username="same@example.test", password="Member-Pass-2")
    assert client.get("/admin/").status_code == 302


def test_two_accounts_with_one_address_and_one_password_log_in_neither(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        User.objects.create_user(email="twin@example.test", password="Twin-Pass-3", client=tenant)
    assert authenticate(username="twin@example.test", password="Twin-Pass-3") is None


def test_a_deleted_account_does_not_log_in(tenant_a):
    gone = User.objects.create_user(
        email="gone@example.test", password="Gone-Pass-4", client=tenant_a
    )
    gone.active = False
    gone.save()
    assert authenticate(username="gone@example.test", password="Gone-Pass-4") is None
