"""API tokens and the create_api_user command."""

import io
import time

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.db import replicas
from core.testing import use_file_cache
from users.authentication import EPOCH_KEY, ApiTokenAuthentication
from users.models import ApiToken, User
from users.tests.factories import UserFactory

ROLES = ("viewer", "user", "admin")

pytestmark = pytest.mark.django_db


def test_create_api_user_prints_a_working_token_last(api):
    out = io.StringIO()
    call_command(
        "create_api_user",
        "--client",
        "Acme",
        "--email",
        "Ops@Acme.test",
        "--role",
        "admin",
        stdout=out,
    )
    token = out.getvalue().strip().splitlines()[-1]
    user = User.objects.get(email="ops@acme.test")
    assert (user.client.name, user.role) == ("Acme", "admin")
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/issues").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/issues").status_code == 200
    # Only a digest is stored.
    assert not ApiToken.objects.filter(digest=token).exists()


def test_create_api_user_changes_a_role_only_when_asked_and_says_so():
    def run(*role: str) -> list[str]:
        out = io.StringIO()
        call_command(
            "create_api_user", "--client", "Acme", "--email", "ana@acme.test", *role, stdout=out
        )
        return out.getvalue().strip().splitlines()

    assert "created with role admin" in run("--role", "admin")[0]
    assert "role admin, unchanged" in run()[0]  # no --role: no demotion
    assert User.objects.get(email="ana@acme.test").role == "admin"
    assert "role changed from admin to viewer" in run("--role", "viewer")[0]
    assert User.objects.get(email="ana@acme.test").role == "viewer"


def test_create_api_user_rejects_a_bad_email():
    with pytest.raises(CommandError, match="--email"):
        call_command("create_api_user", "--client", "Acme", "--email", "not-an-email")


def test_malformed_authorization_headers_are_401(api, user_a):
    client = api()
    for header in ("Bearer", "Bearer a b", "Token"):
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/issues").status_code == 401, header


def test_token_of_a_deactivated_client_is_refused(api, user_a, tenant_a):
    client = api(user_a)
    assert client.get("/api/issues").status_code == 200  # the token is now remembered
    tenant_a.active = False
    tenant_a.save()
    assert client.get("/api/issues").status_code == 401


def token_queries(client) -> tuple[int, list[str]]:
    """GET /api/issues: its status, and the token lookups it ran."""
    with CaptureQueriesContext(connections["default"]) as queries:
        status = client.get("/api/issues").status_code
    return status, [q["sql"] for q in queries if '"api_tokens"' in q["sql"]]


def test_a_verified_token_is_remembered_for_api_token_cache_seconds(api, user_a, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0.5
    client = api(user_a)
    status, lookups = token_queries(client)
    assert status == 200 and len(lookups) == 1
    assert token_queries(client) == (200, [])
    # Deleted behind this process's back (as another process or a script would): this process
    # keeps accepting the token until it has been remembered for API_TOKEN_CACHE_SECONDS.
    with connections["default"].cursor() as cursor:
        cursor.execute("DELETE FROM api_tokens WHERE user_id = %s", [user_a.pk])
    assert token_queries(client) == (200, [])
    time.sleep(0.6)
    status, lookups = token_queries(client)
    assert status == 401 and len(lookups) == 1


def test_zero_seconds_looks_every_token_up(api, user_a, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client = api(user_a)
    for _ in range(2):
        status, lookups = token_queries(client)
        assert status == 200 and len(lookups) == 1


def test_changes_made_in_this_process_apply_to_the_next_request(api, tenant_a):
    viewer, user, admin = (UserFactory(client=tenant_a, role=role) for role in ROLES)
    viewer_client, user_client, admin_client = api(viewer), api(user), api(admin)
    for client in (viewer_client, user_client, admin_client):
        assert client.get("/api/issues").status_code == 200
    body = {"key": "K-1", "summary": "s"}
    # A new role, through the API: the demoted user may no longer write.
    response = admin_client.patch(f"/api/users/{user.pk}", {"role": "viewer"}, format="json")
    assert response.status_code == 200
    assert user_client.post("/api/issues", body, format="json").status_code == 403
    # A deactivated (soft-deleted) user: refused.
    assert admin_client.delete(f"/api/users/{viewer.pk}").status_code == 204
    assert viewer_client.get("/api/issues").status_code == 401
    # A revoked token: refused.
    ApiToken.objects.filter(user=admin).delete()
    assert admin_client.get("/api/issues").status_code == 401


def test_each_request_gets_its_own_user_object(user_a, tenant_a):
    _, key = ApiToken.issue(user=user_a)
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {key}"))
    first, _ = ApiTokenAuthentication().authenticate(request)  # looked up, then remembered
    second, second_token = ApiTokenAuthentication().authenticate(request)
    third, _ = ApiTokenAuthentication().authenticate(request)
    assert first == second == third == user_a
    assert second is not third and second.client is not third.client
    assert second_token.user is second
    second.role = "admin"
    second.client.name = "changed"
    second.preferences["changed"] = True
    assert (third.role, third.client.name, third.preferences) == ("user", tenant_a.name, {})


def test_with_an_unreadable_shared_cache_every_token_is_looked_up(api, user_a, settings, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    use_file_cache(settings, "default", not_a_folder)  # every read fails
    client = api(user_a)
    for _ in range(3):
        status, lookups = token_queries(client)
        assert status == 200 and len(lookups) == 1


def test_an_evicted_token_epoch_is_never_matched_by_its_absence(api, user_a):
    client = api(user_a)
    assert token_queries(client)[0] == 200  # remembered under the epoch of the moment
    assert token_queries(client) == (200, [])
    cache.delete(EPOCH_KEY)  # evicted (a full cache, say): the next request looks again
    status, lookups = token_queries(client)
    assert status == 200 and len(lookups) == 1
    assert cache.get(EPOCH_KEY) is not None
    assert token_queries(client) == (200, [])


def test_a_recorded_login_keeps_remembered_tokens(api, user_a):
    client = api(user_a)
    assert token_queries(client)[0] == 200
    user_a.last_login = timezone.now()
    user_a.save(update_fields=["last_login"])
    assert token_queries(client) == (200, [])
    user_a.save(update_fields=["role"])
    status, lookups = token_queries(client)
    assert status == 200 and len(lookups) == 1


def test_a_standby_s_answer_is_used_but_never_remembered(api, user_a):
    client = api(user_a)
    replicas.mark_down("default")  # the primary is away: the standby answers
    for _ in range(2):
        status, lookups = token_queries(client)
        assert status == 200 and len(lookups) == 1


def test_revocation_receivers_are_connected_by_the_users_app_itself():
    """A process that only sets Django up (a worker, a command) still forgets tokens on a change:
    the receivers are connected in UsersConfig.ready(), not by some import chain."""
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import django; django.setup()\n"
        "from django.db.models.signals import post_delete, post_save\n"
        "from core.models import Client\n"
        "from users.models import ApiToken, User\n"
        "print(all(s.has_listeners(m) for s in (post_save, post_delete)"
        " for m in (ApiToken, User, Client)))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert finished.stdout.strip() == "True"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Acme ", " Acme", "Acme  Robotics", "", "   "])
def test_create_api_user_refuses_a_client_name_with_stray_spaces(name):
    """ "Acme " would quietly be a second client beside "Acme"."""
    with pytest.raises(CommandError, match="--client"):
        call_command("create_api_user", "--client", name, "--email", "x@example.com")
