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
    assert authenticate(username="SAME@example.test", password="OPERATOR-PASS-1") is None
    assert authenticate(username="same@example.test", password="wrong-password") is None
    assert authenticate(username="nobody@example.test", password="Member-Pass-2") is None
    # A member's account never logs in (the admin is for operators), whatever its password.
    assert authenticate(username="same@example.test", password="Member-Pass-2") is None
    assert member.check_password("Member-Pass-2")
    assert client.login(username="same@example.test", password="Operator-Pass-1")
    assert client.get("/admin/").status_code == 200


def test_a_tenants_look_alike_account_changes_nothing_of_an_operators_login(tenant_a, tenant_b):
    """A tenant can create any address in its own client, the operator's included, with the
    operator's password even: the operator still logs in, and the login takes one password check
    whether or not such an account exists (no timing oracle)."""
    from unittest import mock

    operator = User.objects.create_user(
        email="ops@example.test", password="Shared-Pass-5", client=tenant_a, is_staff=True
    )
    User.objects.create_user(email="ops@example.test", password="Shared-Pass-5", client=tenant_b)
    with mock.patch.object(
        User, "check_password", autospec=True, side_effect=lambda u, p: True
    ) as checks:
        assert authenticate(username="ops@example.test", password="Shared-Pass-5") == operator
    assert checks.call_count == 1


def test_two_operator_accounts_with_one_address_and_one_password_log_in_neither(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        User.objects.create_user(
            email="twin@example.test", password="Twin-Pass-3", client=tenant, is_staff=True
        )
    assert authenticate(username="twin@example.test", password="Twin-Pass-3") is None


def test_a_deleted_account_does_not_log_in(tenant_a):
    gone = User.objects.create_user(
        email="gone@example.test", password="Gone-Pass-4", client=tenant_a, is_staff=True
    )
    gone.active = False
    gone.save()
    assert authenticate(username="gone@example.test", password="Gone-Pass-4") is None
