"""User endpoints: roles are managed by admins, passwords are write-only and hashed."""

import pytest

from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_password_is_write_only_and_hashed(api, admin_a):
    body = {"email": "new@example.test", "password": "correct horse battery staple"}
    response = api(admin_a).post("/api/users", body, format="json")
    assert response.status_code == 201
    assert "password" not in response.json()
    user = User.objects.get(email="new@example.test")
    assert user.password != body["password"]
    assert user.check_password(body["password"])


def test_weak_password_is_400(api, admin_a):
    response = api(admin_a).post(
        "/api/users", {"email": "w@example.test", "password": "123"}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()


def test_no_token_or_digest_in_responses(api, admin_a):
    body = api(admin_a).get(f"/api/users/{admin_a.pk}").content.decode()
    assert "digest" not in body and "token" not in body and "password" not in body


def test_nobody_changes_their_own_role(api, user_a, admin_a):
    response = api(user_a).patch(f"/api/users/{user_a.pk}", {"role": "admin"}, format="json")
    assert response.status_code == 403
    user_a.refresh_from_db()
    assert user_a.role == "user"
    response = api(admin_a).patch(f"/api/users/{admin_a.pk}", {"role": "viewer"}, format="json")
    assert response.status_code == 403
    admin_a.refresh_from_db()
    assert admin_a.role == "admin"


def test_admin_manages_roles_of_others(api, admin_a, user_a):
    response = api(admin_a).patch(f"/api/users/{user_a.pk}", {"role": "viewer"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"


def test_users_may_edit_their_own_profile_only(api, user_a, tenant_a):
    colleague = UserFactory(client=tenant_a)
    client = api(user_a)
    assert (
        client.patch(f"/api/users/{user_a.pk}", {"first_name": "Ana"}, format="json").status_code
        == 200
    )
    assert (
        client.patch(f"/api/users/{colleague.pk}", {"first_name": "X"}, format="json").status_code
        == 403
    )
    assert client.post("/api/users", {"email": "z@example.test"}, format="json").status_code == 403
    assert client.delete(f"/api/users/{colleague.pk}").status_code == 403


def test_an_email_is_unique_within_a_client_only_so_it_reveals_nothing(
    api, admin_a, user_a, admin_b
):
    client = api(admin_a)
    # Another client's address (an operator's too) is as free as any: no oracle.
    elsewhere = client.post("/api/users", {"email": admin_b.email}, format="json")
    assert elsewhere.status_code == 201
    assert elsewhere.json()["client_id"] == admin_a.client_id
    own = client.patch(f"/api/users/{admin_a.pk}", {"email": "x@operators.test"}, format="json")
    assert own.status_code == 200
    # Within the client, a taken address is a conflict naming the field.
    taken = client.post("/api/users", {"email": user_a.email.upper()}, format="json")
    assert taken.status_code == 409
    assert taken.json() == {
        "detail": "A user of your client already has this email address.",
        "fields": ["email"],
    }


def test_admin_cannot_delete_themselves(api, admin_a):
    assert api(admin_a).delete(f"/api/users/{admin_a.pk}").status_code == 403


def test_deleted_user_token_stops_working(api, admin_a, user_a):
    client = api(user_a)
    assert client.get("/api/issues").status_code == 200
    assert api(admin_a).delete(f"/api/users/{user_a.pk}").status_code == 204
    assert client.get("/api/issues").status_code == 401


def test_role_filter(api, admin_a, viewer_a):
    rows = api(admin_a).get("/api/users", {"role": "viewer"}).json()["users"]
    assert [row["id"] for row in rows] == [viewer_a.pk]


def test_a_tenant_admin_cannot_take_over_an_operator_account(api, admin_a, tenant_a):
    operator = UserFactory(client=tenant_a, role="admin", is_staff=True, is_superuser=True)
    client = api(admin_a)
    url = f"/api/users/{operator.pk}"
    assert (
        client.patch(url, {"password": "a-brand-new-passphrase"}, format="json").status_code == 403
    )
    assert client.patch(url, {"email": "mine@example.test"}, format="json").status_code == 403
    assert client.delete(url).status_code == 403
    operator.refresh_from_db()
    assert operator.check_password("a-long-test-password") and operator.active
    # A superuser still manages operators.
    assert api(operator).patch(url, {"first_name": "Op"}, format="json").status_code == 200


def test_user_embeddings_are_written_by_admins(api, admin_a, user_a):
    vector = {"embedding": [0.1] * 1536}
    assert (
        api(user_a).put(f"/api/users/{user_a.pk}/embedding", vector, format="json").status_code
        == 403
    )
    assert (
        api(admin_a).put(f"/api/users/{user_a.pk}/embedding", vector, format="json").status_code
        == 200
    )
    rows = api(user_a).get(f"/api/users/{admin_a.pk}/similar").status_code
    assert rows == 409  # the admin has no embedding yet
