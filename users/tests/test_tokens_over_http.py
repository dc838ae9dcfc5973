"""Tokens over HTTP: ``POST /api/auth/token``, the caller's tokens, ``/api/users/me``, expiry
and lockout."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connections
from django.utils import timezone

from core.testing import wait_for_standby
from users.models import ApiToken, User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases="__all__")

PASSWORD = "a-long-test-password"
WRONG = {"detail": "Wrong email or password.", "fields": ["email", "password"]}


@pytest.fixture(autouse=True)
def _no_failures_counted_before():
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def obtain(api, email, password=PASSWORD, address="127.0.0.1", *, client, **body):
    """Ask for a token for ``email`` in ``client`` (a Client or an id)."""
    client_id = getattr(client, "pk", client)
    return api().post(
        "/api/auth/token",
        {"email": email, "password": password, "client_id": client_id, **body},
        format="json",
        REMOTE_ADDR=address,
    )


def bearer(api, key: str):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_password_makes_a_token_that_opens_the_api(api, user_a):
    answer = obtain(api, user_a.email.upper(), client=user_a.client, name="laptop")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["name"] == "laptop" and body["expires_at"] is None and not body["expired"]
    assert body["user"] == {
        "id": user_a.pk, "email": user_a.email, "client_id": user_a.client_id, "role": "user"
    }  # fmt: skip
    assert body["prefix"] == body["token"][:8] and answer["Cache-Control"] == "no-store"
    token = ApiToken.objects.using("default").get(pk=body["id"])
    assert token.digest != body["token"]  # only the digest is kept
    me = bearer(api, body["token"]).get("/api/users/me")
    assert me.status_code == 200 and me.json()["email"] == user_a.email
    assert me["ETag"].startswith(f'"{user_a.pk}.')
    listed = bearer(api, body["token"]).get("/api/auth/tokens").json()["tokens"]
    assert [(t["id"], t["name"], t["current"]) for t in listed] == [(body["id"], "laptop", True)]
    assert "token" not in listed[0] and "digest" not in listed[0]


@pytest.mark.parametrize(
    "case",
    [
        "wrong password",
        "unknown address",
        "no password set",
        "deleted user",
        "deleted client",
        "another client",
        "operator",
    ],
)
def test_every_failed_login_answers_alike(api, tenant_a, tenant_b, case):
    user = UserFactory(client=tenant_a, email="kim@example.test")
    email, password, client = user.email, PASSWORD, tenant_a
    if case == "wrong password":
        password = "not-the-password"
    elif case == "unknown address":
        email = "nobody@example.test"
    elif case == "no password set":
        user.set_unusable_password()
        user.save()
    elif case == "deleted user":
        user.active = False
        user.save()
    elif case == "deleted client":
        tenant_a.active = False
        tenant_a.save()
    elif case == "another client":
        client = tenant_b
    else:  # operators get their tokens from the create_api_user command only
        user.is_staff = True
        user.save()
    answer = obtain(api, email, password, client=client)
    assert (answer.status_code, answer.json()) == (401, WRONG)
    assert answer["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not ApiToken.objects.using("default").filter(user=user).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.test"}, "password"),
        ({"email": ["a@example.test"], "password": PASSWORD}, "email"),
        ({"email": "a@example.test", "password": None}, "password"),
        ({"email": "a" * 255, "password": PASSWORD}, "email"),
        ({"email": "a@example.test", "password": "p" * 129}, "password"),
        ({"email": "a\x00@example.test", "password": PASSWORD}, "email"),
        ({"email": "a@example.test", "password": PASSWORD, "name": ""}, "name"),
        ({"email": "a@example.test", "password": PASSWORD, "name": "n" * 101}, "name"),
        ({"email": "a@example.test", "password": PASSWORD, "expires_at": "2020-01-01T00:00:00Z"},
         "expires_at"),
        ({"email": "a@example.test", "password": PASSWORD, "expires_at": "2099-01-01T00:00:00"},
         "expires_at"),
        ({"email": "a@example.test", "password": PASSWORD, "expires_at": "tomorrow"},
         "expires_at"),
        ({"email": "a@example.test", "password": PASSWORD, "expires_at": 4102444800},
         "expires_at"),
        ({"email": "a@example.test", "password": PASSWORD, "expires_at": "10000-01-01T00:00:00Z"},
         "expires_at"),
        ({"email": "a@example.test", "password": PASSWORD, "client_id": "1"}, "client_id"),
        ({"email": "a@example.test", "password": PASSWORD, "client_id": 0}, "client_id"),
        ({"email": "a@example.test", "password": PASSWORD, "client_id": 2**63}, "client_id"),
        ({"email": "a@example.test", "password": PASSWORD, "client_id": None}, "client_id"),
        ({"email": "a@example.test", "password": PASSWORD, "current_password": "x"},
         "current_password"),
    ],
)  # fmt: skip
def test_a_refused_field_is_named(api, body, field):
    body = {"client_id": 1, **body}
    answer = api().post("/api/auth/token", body, format="json")
    assert answer.status_code == 400, answer.json()
    assert field in answer.json(), answer.json()


def test_a_token_may_expire(api, user_a, settings):
    settings.API_TOKEN_CACHE_SECONDS = 60  # remembered: still refused once it has expired
    soon = (timezone.now() + timedelta(seconds=1.5)).isoformat()
    answer = obtain(api, user_a.email, client=user_a.client, expires_at=soon)
    assert answer.status_code == 201, answer.json()
    key = answer.json()["token"]
    assert answer.json()["expires_at"] is not None
    assert bearer(api, key).get("/api/users/me").status_code == 200
    time.sleep(1.6)
    refused = bearer(api, key).get("/api/users/me")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Token expired: ask for a new one."}
    listed = api(user_a).get("/api/auth/tokens").json()["tokens"]
    assert [t["expired"] for t in listed if t["id"] == answer.json()["id"]] == [True]


def test_the_token_endpoints_take_no_query_parameters(api, user_a):
    assert api().post("/api/auth/token?bogus=1", {}, format="json").json() == {
        "bogus": ["Unknown query parameter; allowed: format."]
    }
    mine = api(user_a)
    assert "bogus" in mine.get("/api/auth/tokens?bogus=1").json()
    assert "format" in mine.get("/api/auth/tokens?format=json&format=json").json()


def test_bad_tokens_count_against_the_anonymous_limit(api, settings):
    settings.API_THROTTLE_ANON = "3/hour"
    guesser = api()
    guesser.credentials(HTTP_AUTHORIZATION="Bearer guessed")
    answers = [guesser.get("/api/auth/tokens").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]


def test_a_deleted_token_is_refused_on_the_next_request(api, user_a, admin_a):
    key = obtain(api, user_a.email, client=user_a.client).json()["token"]
    other = obtain(api, user_a.email, client=user_a.client, name="other").json()
    mine = bearer(api, key)
    assert mine.get("/api/issues").status_code == 200
    # Another user's token: not found, and not touched.
    admins = api(admin_a)
    assert admins.delete(f"/api/auth/tokens/{other['id']}").status_code == 404
    assert mine.delete(f"/api/auth/tokens/{other['id']}").status_code == 204
    assert bearer(api, other["token"]).get("/api/issues").status_code == 401
    mine_listed = mine.get("/api/auth/tokens").json()["tokens"]
    assert [t["name"] for t in mine_listed] == ["default"]
    # Its own token: logging out.
    current = mine_listed[0]["id"]
    assert mine.delete(f"/api/auth/tokens/{current}").status_code == 204
    assert mine.get("/api/issues").status_code == 401
    assert admins.get("/api/auth/tokens").json()["tokens"][0]["current"] is True


def test_an_account_is_locked_after_its_failures_and_says_nothing(api, tenant_a, settings):
    settings.API_LOGIN_FAILURES_PER_ACCOUNT = "3/hour"
    locked = UserFactory(client=tenant_a, email="locked@example.test")
    UserFactory(client=tenant_a, email="other@example.test")
    for attempt in range(3):
        address = f"10.0.0.{attempt}"  # from several addresses: counted on the account
        answer = obtain(api, locked.email, "wrong-password", address, client=tenant_a)
        assert answer.json() == WRONG
    # The right password now answers as a wrong one, from anywhere, in any case of the address.
    assert obtain(api, locked.email, address="10.0.1.1", client=tenant_a).json() == WRONG
    assert obtain(api, locked.email.upper(), address="10.0.1.1", client=tenant_a).json() == WRONG
    # Another account is not affected.
    assert obtain(api, "other@example.test", address="10.0.1.1", client=tenant_a).status_code == 201
    # Once the window has moved on, the owner gets in; a success takes its attempt back.
    caches["throttle"].clear()
    for _ in range(4):
        assert obtain(api, locked.email, client=tenant_a).status_code == 201


def test_an_address_is_locked_after_its_failures(api, tenant_a, settings):
    settings.API_LOGIN_FAILURES_PER_ADDRESS = "3/hour"
    user = UserFactory(client=tenant_a, email="kept@example.test")
    for attempt in range(3):
        guess = obtain(api, f"guess{attempt}@example.test", "x" * 8, "10.1.1.1", client=tenant_a)
        assert guess.json() == WRONG
    assert obtain(api, user.email, address="10.1.1.1", client=tenant_a).json() == WRONG
    assert obtain(api, user.email, address="10.1.1.2", client=tenant_a).status_code == 201
    # An IPv6 caller is counted by its /64.
    for attempt in range(3):
        obtain(api, "guess@example.test", "x" * 8, f"2001:db8::{attempt + 1}", client=tenant_a)
    assert obtain(api, user.email, address="2001:db8::ff", client=tenant_a).json() == WRONG
    assert obtain(api, user.email, address="2001:db8:0:1::1", client=tenant_a).status_code == 201


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_guesses_all_count(api, tenant_a, settings):
    settings.API_LOGIN_FAILURES_PER_ACCOUNT = "3/hour"
    user = UserFactory(client=tenant_a, email="burst@example.test")
    answers = []

    def guess(number: int) -> None:
        answers.append(obtain(api, user.email, f"guess-{number}", client=tenant_a).status_code)
        connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [401] * 8
    # All eight counted: the right password is refused.
    assert obtain(api, user.email, client=tenant_a).json() == WRONG


def test_one_address_in_two_clients_is_two_accounts(api, tenant_a, tenant_b):
    first = UserFactory(client=tenant_a, email="twice@example.test")
    second = UserFactory(client=tenant_b, email="twice@example.test")
    second.set_password("the-second-password")
    second.save()
    missing = api().post(
        "/api/auth/token", {"email": "twice@example.test", "password": PASSWORD}, format="json"
    )
    assert missing.status_code == 400 and "client_id" in missing.json()
    mine = obtain(api, "twice@example.test", client=tenant_a)
    assert mine.json()["user"]["id"] == first.pk
    # The other account's password, or this password in the other client: wrong, alike.
    assert obtain(api, "twice@example.test", "the-second-password", client=tenant_a).json() == (
        WRONG
    )
    assert obtain(api, "twice@example.test", client=tenant_b).json() == WRONG
    theirs = obtain(api, "twice@example.test", "the-second-password", client=tenant_b)
    assert theirs.json()["user"]["id"] == second.pk


def test_tokens_per_user_are_limited(api, user_a, settings):
    settings.API_TOKENS_PER_USER = 2
    assert obtain(api, user_a.email, client=user_a.client).status_code == 201
    assert obtain(api, user_a.email, client=user_a.client).status_code == 201
    third = obtain(api, user_a.email, client=user_a.client)
    assert third.status_code == 409 and "delete one first" in third.json()["detail"]
    # Expired tokens make room.
    ApiToken.objects.filter(user=user_a).update(expires_at=timezone.now())
    assert obtain(api, user_a.email, client=user_a.client).status_code == 201
    assert ApiToken.objects.using("default").filter(user=user_a).count() == 1


def test_an_admin_sets_a_first_password_then_the_user_changes_it(api, admin_a, tenant_a):
    admins = api(admin_a)
    weak = admins.post(
        "/api/users", {"email": "new@example.test", "password": "password"}, format="json"
    )
    assert weak.status_code == 400 and "password" in weak.json()
    created = admins.post(
        "/api/users", {"email": "new@example.test", "password": "first-password-42"}, format="json"
    )
    assert created.status_code == 201 and "password" not in created.json()
    key = obtain(api, "new@example.test", "first-password-42", client=tenant_a).json()["token"]
    mine = bearer(api, key)
    # A token alone does not change the password.
    refused = mine.patch("/api/users/me", {"password": "second-password-42"}, format="json")
    assert refused.status_code == 400 and "current_password" in refused.json()
    wrong = mine.patch(
        "/api/users/me",
        {"password": "second-password-42", "current_password": "nope"},
        format="json",
    )
    assert wrong.status_code == 400 and wrong.json()["current_password"] == ["Wrong password."]
    changed = mine.patch(
        "/api/users/me",
        {"password": "second-password-42", "current_password": "first-password-42"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert obtain(api, "new@example.test", "first-password-42", client=tenant_a).json() == WRONG
    assert obtain(api, "new@example.test", "second-password-42", client=tenant_a).status_code == 201
    # An admin resets another's password without theirs.
    reset = admins.patch(
        f"/api/users/{created.json()['id']}", {"password": "third-password-42"}, format="json"
    )
    assert reset.status_code == 200
    assert obtain(api, "new@example.test", "third-password-42", client=tenant_a).status_code == 201
    # current_password belongs to a change of one's own password only.
    alongside = admins.patch(
        f"/api/users/{created.json()['id']}",
        {"password": "fourth-password-42", "current_password": "third-password-42"},
        format="json",
    )
    assert alongside.status_code == 400 and "current_password" in alongside.json()


def test_guesses_of_the_current_password_count_as_failed_logins(api, user_a, settings):
    settings.API_LOGIN_FAILURES_PER_ACCOUNT = "3/hour"
    mine = api(user_a)
    for attempt in range(3):
        wrong = mine.patch(
            "/api/users/me",
            {"password": "new-password-42", "current_password": f"guess-{attempt}"},
            format="json",
        )
        assert wrong.json() == {"current_password": ["Wrong password."]}
    # Locked: the right one is refused too, and so is a login.
    right = mine.patch(
        "/api/users/me",
        {"password": "new-password-42", "current_password": PASSWORD},
        format="json",
    )
    assert right.json() == {"current_password": ["Wrong password."]}
    assert obtain(api, user_a.email, client=user_a.client).json() == WRONG


def test_a_first_password_is_an_admins_to_set(api, tenant_a, admin_a):
    member = UserFactory(client=tenant_a)
    member.set_unusable_password()
    member.save()
    refused = api(member).patch("/api/users/me", {"password": "my-own-password-42"}, format="json")
    assert refused.status_code == 400 and "password" in refused.json()
    set_by_admin = api(admin_a).patch(
        f"/api/users/{member.pk}", {"password": "given-password-42"}, format="json"
    )
    assert set_by_admin.status_code == 200
    assert obtain(api, member.email, "given-password-42", client=tenant_a).status_code == 201


def test_passwords_are_kept_as_sent_and_checked_against_the_account(api, admin_a, tenant_a):
    admins = api(admin_a)
    like = admins.post(
        "/api/users",
        {"email": "lee.smith@example.test", "password": "lee.smith@example.test"},
        format="json",
    )
    assert like.status_code == 400 and "password" in like.json()
    spaced = admins.post(
        "/api/users",
        {"email": "spaced@example.test", "password": "  spaced-horse-battery-3  "},
        format="json",
    )
    assert spaced.status_code == 201
    assert (
        obtain(
            api, "spaced@example.test", "  spaced-horse-battery-3  ", client=tenant_a
        ).status_code
        == 201
    )
    assert (
        obtain(api, "spaced@example.test", "spaced-horse-battery-3", client=tenant_a).json()
        == WRONG
    )


# Versions are transactions: each request must commit its own.
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_me_follows_the_rules_of_the_item(api, user_a, viewer_a, admin_a):
    mine = api(user_a)
    wait_for_standby()  # the accounts were written outside any request
    stale = mine.get("/api/users/me")["ETag"]
    changed = mine.patch("/api/users/me", {"last_name": "Lee"}, format="json")
    assert changed.status_code == 200 and changed["ETag"] != stale
    refused = mine.patch("/api/users/me", {"last_name": "Old"}, format="json", HTTP_IF_MATCH=stale)
    assert refused.status_code == 412
    assert (
        mine.patch(
            "/api/users/me", {"last_name": "New"}, format="json", HTTP_IF_MATCH=changed["ETag"]
        ).json()["last_name"]
        == "New"
    )
    assert (
        mine.patch("/api/users/me", {"first_name": "Kim"}, format="json").json()["first_name"]
        == "Kim"
    )
    assert mine.patch("/api/users/me", {"role": "admin"}, format="json").status_code == 403
    assert User.objects.using("default").get(pk=user_a.pk).role == "user"
    for parameter in ("limit=1", "fields=id"):
        assert mine.get(f"/api/users/me?{parameter}").status_code == 400, parameter
    assert api(viewer_a).get("/api/users/me").json()["id"] == viewer_a.pk
    assert api().get("/api/users/me").status_code == 401
    assert mine.delete("/api/users/me").status_code == 403  # not an admin: no deletes at all
    refused = api(admin_a).delete("/api/users/me")
    assert refused.status_code == 405 and refused.json()["allowed"] == [
        "GET",
        "PATCH",
        "HEAD",
        "OPTIONS",
    ]


def test_the_auth_endpoints_are_in_the_schema(api, user_a):
    paths = api(user_a).get("/api/schema/?format=json").json()["paths"]
    expected = {"/api/auth/token/", "/api/auth/tokens/", "/api/auth/tokens/{id}/", "/api/users/me/"}
    assert expected <= set(paths)
    # No token needed to ask for one.
    assert "bearerAuth" not in str(paths["/api/auth/token/"]["post"].get("security"))
    assert "bearerAuth" in str(paths["/api/auth/tokens/"]["get"]["security"])
    assert set(paths["/api/users/me/"]) >= {"get", "patch"}

    def headers(operation: dict) -> list[str]:
        return [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]

    assert "If-Match" in headers(paths["/api/users/me/"]["patch"])
    assert "If-Match" not in headers(paths["/api/auth/tokens/{id}/"]["delete"])
