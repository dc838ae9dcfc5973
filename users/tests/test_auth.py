"""API tokens and the create_api_user command."""

import io

import pytest
from django.core.management import CommandError, call_command

from users.models import ApiToken, User

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
    tenant_a.active = False
    tenant_a.save()
    assert client.get("/api/issues").status_code == 401
