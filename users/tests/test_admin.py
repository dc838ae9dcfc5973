"""Users and API tokens in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as BrowserClient

from users.models import ApiToken, User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(tenant_a) -> BrowserClient:
    operator = UserFactory(client=tenant_a, role="admin", is_staff=True, is_superuser=True)
    client = BrowserClient()
    client.force_login(operator)
    return client


def test_add_a_user_by_email_with_client_role_and_password(browser, tenant_a):
    response = browser.post(
        "/admin/users/user/add/",
        {
            "email": "New.Person@Example.TEST",
            "client": tenant_a.pk,
            "role": "viewer",
            "usable_password": "true",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@example.test")
    assert (user.client_id, user.role, user.is_staff) == (tenant_a.pk, "viewer", False)
    assert user.check_password("a-long-enough-password")


def test_an_email_already_taken_is_refused_whatever_its_case(browser, tenant_a):
    UserFactory(client=tenant_a, email="taken@example.test")
    response = browser.post(
        "/admin/users/user/add/",
        {"email": "TAKEN@example.test", "client": tenant_a.pk, "role": "user"},
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


def test_change_role_and_client(browser, tenant_a, tenant_b):
    user = UserFactory(client=tenant_a, role="user")
    page = browser.get(f"/admin/users/user/{user.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields and name not in ("password", "groups", "user_permissions")
    }
    data.update(role="admin", client=tenant_b.pk, active="on", preferences="{}")
    data.pop("is_staff", None)
    data.pop("is_superuser", None)
    response = browser.post(f"/admin/users/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.role, user.client_id, user.active) == ("admin", tenant_b.pk, True)


def test_tokens_show_the_prefix_only_and_are_read_only(browser, tenant_a):
    token, key = ApiToken.issue(user=UserFactory(client=tenant_a))
    listing = browser.get("/admin/users/apitoken/")
    assert listing.status_code == 200
    assert f"{token.prefix}…" in listing.text
    assert token.digest not in listing.text and key not in listing.text
    detail = browser.get(f"/admin/users/apitoken/{token.pk}/change/")
    assert detail.status_code == 200
    assert token.digest not in detail.text and key not in detail.text
    assert browser.get("/admin/users/apitoken/add/").status_code == 403
    assert browser.post(f"/admin/users/apitoken/{token.pk}/change/", {}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_superusers_revoke_tokens_and_the_api_refuses_them_at_once(browser, api, tenant_a):
    holder = UserFactory(client=tenant_a)
    token, key = ApiToken.issue(user=holder)
    _, kept_key = ApiToken.issue(user=holder)
    client, other = api(), api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {kept_key}")
    assert client.get("/api/issues").status_code == 200  # now remembered by this process
    response = browser.post(
        "/admin/users/apitoken/",
        {"action": "delete_selected", "_selected_action": [token.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert client.get("/api/issues").status_code == 401
    assert other.get("/api/issues").status_code == 200


def test_staff_who_are_not_superusers_cannot_revoke_tokens(tenant_a):
    staff = UserFactory(client=tenant_a, role="admin", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_apitoken"))
    browser = BrowserClient()
    browser.force_login(staff)
    token, _ = ApiToken.issue(user=UserFactory(client=tenant_a))
    assert browser.get("/admin/users/apitoken/").status_code == 200
    response = browser.post(f"/admin/users/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()
