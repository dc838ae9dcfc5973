"""Who may manage whom (users.policy), asked the same way by the API and the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from users import policy
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenant_a):
    make = lambda **kw: UserFactory(client=tenant_a, **kw)  # noqa: E731
    return {
        "superuser": make(role="admin", is_staff=True, is_superuser=True),
        "operator": make(role="user", is_staff=True),
        "admin": make(role="admin"),
        "user": make(role="user"),
        "viewer": make(role="viewer"),
    }


# (actor, target) -> whether the API lets actor change target.
CHANGES = {
    ("superuser", "operator"): True,
    ("superuser", "user"): True,
    ("admin", "user"): True,
    ("admin", "viewer"): True,
    ("admin", "operator"): False,  # operators reach every client: superusers only
    ("admin", "superuser"): False,
    ("user", "viewer"): False,
    ("viewer", "user"): False,
    ("operator", "superuser"): False,
}


@pytest.mark.parametrize(("actor", "target"), sorted(CHANGES))
def test_who_may_change_whom(people, actor, target):
    refused = policy.change_refused(people[actor], people[target])
    assert (refused is None) is CHANGES[(actor, target)], refused


@pytest.mark.parametrize("actor", ["superuser", "operator", "admin", "user", "viewer"])
def test_everyone_may_change_their_own_profile_but_not_their_role_nor_delete_themselves(
    people, actor
):
    me = people[actor]
    assert policy.change_refused(me, me) is None
    assert policy.role_refused(me, me, me.role) is None
    other_role = "viewer" if me.role != "viewer" else "user"
    assert policy.role_refused(me, me, other_role) == policy.OWN_ROLE
    assert policy.delete_refused(me, me) == policy.OWN_ACCOUNT


def test_only_admins_and_superusers_give_roles(people):
    for actor in ("superuser", "admin"):
        assert policy.role_refused(people[actor], people["viewer"], "admin") is None
        assert policy.role_refused(people[actor], None, "user") is None
    for actor in ("user", "viewer", "operator"):
        target = people["admin"]
        assert policy.role_refused(people[actor], target, "viewer") == policy.ROLES
        assert policy.role_refused(people[actor], None, "user") == policy.ROLES


def test_the_api_asks_the_policy(api, people):
    admin = api(people["admin"])
    operator = people["operator"]
    response = admin.patch(f"/api/users/{operator.pk}", {"first_name": "X"}, format="json")
    assert (response.status_code, response.json()["detail"]) == (403, policy.OPERATORS)
    response = admin.delete(f"/api/users/{people['admin'].pk}")
    assert (response.status_code, response.json()["detail"]) == (403, policy.OWN_ACCOUNT)
    response = api(people["user"]).patch(
        f"/api/users/{people['viewer'].pk}", {"first_name": "X"}, format="json"
    )
    assert (response.status_code, response.json()["detail"]) == (403, policy.ADMINS_ONLY)


def test_the_admin_asks_the_policy(client, people):
    """A staff operator with Django's user permissions still cannot touch another operator's
    account, nor make anyone an operator: the same rules as the API."""
    operator = people["operator"]
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=("view_user", "change_user", "delete_user"))
    )
    operator.set_password("x" * 20)
    operator.save()
    client.force_login(operator)
    superuser = people["superuser"]
    change_url = f"/admin/users/user/{superuser.pk}/change/"
    response = client.post(change_url, {"email": superuser.email, "first_name": "Taken"})
    assert response.status_code == 403
    response = client.post(f"/admin/users/user/{superuser.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.active and superuser.is_superuser and superuser.first_name != "Taken"
    # A member's account: changeable, but not into an operator's.
    page = client.get(f"/admin/users/user/{people['user'].pk}/change/")
    assert page.status_code == 200
    for flag in ("is_staff", "is_superuser"):
        assert f'name="{flag}"' not in page.content.decode(), flag


def test_in_the_admin_a_staff_member_cannot_change_their_own_role_or_client(
    client, people, tenant_b
):
    operator = people["operator"]
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=("view_user", "change_user"))
    )
    client.force_login(operator)
    url = f"/admin/users/user/{operator.pk}/change/"
    page = client.get(url).content.decode()
    for field in ("role", "client", "is_superuser"):
        assert f'name="{field}"' not in page, field
    client.post(
        url,
        {"email": operator.email, "client": tenant_b.pk, "role": "admin", "active": "on"},
    )
    operator.refresh_from_db()
    assert (operator.client_id, operator.role, operator.is_superuser) == (
        people["admin"].client_id,
        "user",
        False,
    )
    # Nor anyone's role, not being an admin of a client.
    page = client.get(f"/admin/users/user/{people['viewer'].pk}/change/").content.decode()
    assert 'name="role"' not in page
