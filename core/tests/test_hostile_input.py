"""Hostile and malformed input: always a 4xx with a message, never a 500, and the server stays up."""

import json

import pytest
from django.db import connections

from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

NUL = "\x00"


def assert_client_error(response, *, status: int = 400, names: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body, "an error needs a message"
    if names is not None:
        assert names in json.dumps(body), body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "K-1", "summary": "x" * 1001}, "summary"),
        ({"key": "K-1", "summary": "s", "story_points": "lots"}, "story_points"),
        ({"key": "K-1", "summary": "s", "story_points": 1e308}, "story_points"),
        ({"key": "K-1", "summary": "s", "labels": "not-a-list"}, "labels"),
        ({"key": "K-1", "summary": "s", "created": "yesterday"}, "created"),
        ({"key": "K-1", "summary": f"nul{NUL}byte"}, "summary"),
        ({"key": "K-1", "summary": "s", "labels": [f"nul{NUL}"]}, "labels"),
        ({"key": ["K-1"], "summary": "s"}, "key"),
        ({"summary": "no key"}, "key"),
        ({"key": "K-1", "summary": "s", "project_id": "1; DROP TABLE issues"}, "project_id"),
        ({"key": "K-1", "summary": "s", "project_id": 10**30}, "project_id"),
    ],
)
def test_bad_issue_bodies(api, user_a, body, field):
    assert_client_error(api(user_a).post("/api/issues", body, format="json"), names=field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repository": "a/b", "number": 2**40, "name": "n"}, "number"),
        ({"repository": "a/b", "number": -1, "name": "n"}, "number"),
        ({"repository": "a/b", "number": 1, "name": "n", "deletions": 2**31}, "deletions"),
        ({"repository": "a/b", "number": 1, "name": "n", "url": "javascript:alert(1)"}, "url"),
    ],
)
def test_numbers_beyond_column_ranges(api, user_a, body, field):
    assert_client_error(api(user_a).post("/api/pull-requests", body, format="json"), names=field)


def test_json_nul_inside_jsonb_is_400_not_500(api, user_a):
    response = api(user_a).patch(
        f"/api/users/{user_a.pk}", {"preferences": {"theme": f"dark{NUL}"}}, format="json"
    )
    assert_client_error(response)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(api, user_a, literal):
    body = '{"key": "K-1", "summary": "s", "story_points": ' + literal + "}"
    assert_client_error(api(user_a).post("/api/issues", body, content_type="application/json"))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{", "application/json"),
        ("[]", "application/json"),
        ('"just a string"', "application/json"),
        ("\xff\xfe", "application/json"),
        ("key=K-1", "text/plain"),
    ],
)
def test_malformed_bodies(api, user_a, body, content_type):
    response = api(user_a).post("/api/issues", body, content_type=content_type)
    assert response.status_code in (400, 415), response.content


def test_huge_body_is_413_before_it_is_read(api, user_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"key": "K-1", "summary": "s", "description": "x" * 5000})
    assert_client_error(
        api(user_a).post("/api/issues", body, content_type="application/json"), status=413
    )


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"offset": 10**30}, "offset"),
        ({"limit": "1e3"}, "limit"),
        ({"project_id": 10**30}, "project_id"),
        ({"client_id": 10**30}, "client_id"),
        ({"search": "x" * 201}, "search"),
        ({"ordering": "summary;drop"}, "ordering"),
        ({"include_ml_fields": "yes please"}, "include_ml_fields"),
    ],
)
def test_hostile_query_parameters(api, user_a, params, name):
    assert_client_error(api(user_a).get("/api/issues", params), names=name)


def test_nul_in_query_parameters_is_4xx(api, user_a):
    response = api(user_a).get("/api/issues", {"search": f"a{NUL}b"})
    assert 400 <= response.status_code < 500


def test_very_large_offset_is_an_empty_page(api, user_a, tenant_a):
    IssueFactory(client=tenant_a)
    body = api(user_a).get("/api/issues", {"offset": 2**62}).json()
    assert (body["issues"], body["total_count"]) == ([], 1)


@pytest.mark.parametrize(
    "path", ["/api/issues/99999999999999999999", "/api/issues/-1", "/api/issues/1e3"]
)
def test_ids_beyond_integer_range_are_404(api, user_a, path):
    assert api(user_a).get(path).status_code == 404


def test_server_still_answers_after_all_that(api, user_a):
    assert api(user_a).get("/api/issues").status_code == 200


def test_api_sessions_carry_a_statement_timeout():
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"


def test_throttling_answers_429(api, user_a, settings):
    from django.core.cache import caches

    caches["throttle"].clear()
    settings.API_THROTTLE_USER = "3/minute"
    client = api(user_a)
    statuses = [client.get("/api/issues").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/issues")["Retry-After"]


def test_anonymous_throttling_answers_429(api, settings):
    from django.core.cache import caches

    caches["throttle"].clear()
    settings.API_THROTTLE_ANON = "2/minute"
    statuses = [api().get("/api/issues").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/api/pull-requests", {"status": ""}, "status"),
        ("/api/users", {"role": ""}, "role"),
        ("/api/ml/anomaly-alerts", {"severity": ""}, "severity"),
        ("/api/ml/anomaly-alerts", {"acknowledged": ""}, "acknowledged"),
    ],
)
def test_empty_choice_filters_are_400_not_ignored(api, admin_a, path, params, name):
    assert_client_error(api(admin_a).get(path, params), names=name)


def test_fractional_foreign_key_ids_are_400_not_truncated(api, user_a, tenant_a):
    from projects.tests.factories import ProjectFactory

    project = ProjectFactory(client=tenant_a)
    body = {"key": "F-1", "summary": "s", "project_id": project.pk + 0.9}
    assert_client_error(api(user_a).post("/api/issues", body, format="json"), names="project_id")


def test_unknown_query_parameters_are_400_on_every_operation(api, user_a, tenant_a):
    issue = IssueFactory(client=tenant_a)
    client = api(user_a)
    assert_client_error(client.get(f"/api/issues/{issue.pk}", {"bogus": 1}), names="bogus")
    response = client.patch(f"/api/issues/{issue.pk}?bogus=1", {"summary": "x"}, format="json")
    assert_client_error(response, names="bogus")
    assert_client_error(client.get("/api/issues/stats", {"bogus": 1}), names="bogus")
    issue.refresh_from_db()
    assert issue.summary != "x"


def test_a_bad_host_header_is_a_json_400(api, user_a):
    response = api(user_a).get("/api/issues", HTTP_HOST="bad host;")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
