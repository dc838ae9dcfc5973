"""The ML monitoring endpoints: envelope, roles, tenancy, filters, paging and verbs."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from mlmonitoring.tests.factories import (
    AnomalyAlertFactory,
    LearningMemoryFactory,
    PredictionLogFactory,
)
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "learning-memory": ("/api/ml/learning-memory", "learning_memories", "error_type_filter"),
    "prediction-logs": ("/api/ml/prediction-logs", "prediction_logs", "model_name_filter"),
    "anomaly-alerts": ("/api/ml/anomaly-alerts", "anomaly_alerts", "acknowledged_filter"),
}
FACTORIES = {
    "learning-memory": LearningMemoryFactory,
    "prediction-logs": PredictionLogFactory,
    "anomaly-alerts": AnomalyAlertFactory,
}


@pytest.fixture(params=list(ENDPOINTS))
def endpoint(request):
    path, key, filter_key = ENDPOINTS[request.param]
    return {"path": path, "key": key, "filter_key": filter_key, "factory": FACTORIES[request.param]}


def ids(response, key: str) -> list[int]:
    return [row["id"] for row in response.json()[key]]


def test_list_envelope_is_the_specifications_plus_paging(api, endpoint, admin_a, tenant_a):
    rows = [endpoint["factory"](client=tenant_a) for _ in range(3)]
    response = api(admin_a).get(endpoint["path"], {"limit": 2, "offset": 1})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        endpoint["key"],
        "count",
        endpoint["filter_key"],
        "total_count",
        "offset",
        "limit",
    }
    assert body[endpoint["filter_key"]] is None
    assert (body["count"], body["total_count"], body["offset"], body["limit"]) == (2, 3, 1, 2)
    # Newest first: the second and third newest.
    assert ids(response, endpoint["key"]) == [rows[1].pk, rows[0].pk]


def test_default_limit_is_50_and_100_is_accepted(api, endpoint, admin_a):
    client = api(admin_a)
    assert client.get(endpoint["path"]).json()["limit"] == 50
    assert client.get(endpoint["path"], {"limit": 100}).json()["limit"] == 100


def test_rows_carry_both_update_timestamp_names(api, endpoint, admin_a, tenant_a):
    row = endpoint["factory"](client=tenant_a)
    body = api(admin_a).get(f"{endpoint['path']}/{row.pk}").json()
    assert body["id"] == row.pk
    assert body["client_id"] == tenant_a.pk
    assert body["updated_at"] == body["last_updated_at"] is not None
    assert "embedding" not in body


def test_with_and_without_trailing_slash(api, endpoint, admin_a, tenant_a):
    row = endpoint["factory"](client=tenant_a)
    client = api(admin_a)
    for path in (endpoint["path"], endpoint["path"] + "/"):
        assert client.get(path).status_code == 200
    for path in (f"{endpoint['path']}/{row.pk}", f"{endpoint['path']}/{row.pk}/"):
        assert client.get(path).json()["id"] == row.pk


@pytest.mark.parametrize(
    ("role", "superuser", "expected"),
    [("admin", False, 200), ("user", False, 403), ("viewer", False, 403), ("user", True, 200)],
)
def test_only_admins_and_superusers(api, endpoint, tenant_a, role, superuser, expected):
    row = endpoint["factory"](client=tenant_a)
    person = UserFactory(client=tenant_a, role=role, is_superuser=superuser)
    client = api(person)
    assert client.get(endpoint["path"]).status_code == expected
    assert client.get(f"{endpoint['path']}/{row.pk}").status_code == expected


def test_anonymous_and_bad_tokens_are_401(api, endpoint, tenant_a):
    row = endpoint["factory"](client=tenant_a)
    assert api().get(endpoint["path"]).status_code == 401
    assert api().get(f"{endpoint['path']}/{row.pk}").status_code == 401
    bad = api()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.get(endpoint["path"]).status_code == 401


def test_forbidden_message_says_why(api, endpoint, user_a):
    response = api(user_a).get(endpoint["path"])
    assert response.json()["detail"] == "Only admins of this client may do this."


def test_other_tenants_rows_are_invisible(api, endpoint, admin_a, tenant_a, tenant_b):
    mine = endpoint["factory"](client=tenant_a)
    theirs = endpoint["factory"](client=tenant_b)
    client = api(admin_a)
    response = client.get(endpoint["path"], {"limit": 100})
    assert ids(response, endpoint["key"]) == [mine.pk]
    assert response.json()["total_count"] == 1
    assert client.get(f"{endpoint['path']}/{theirs.pk}").status_code == 404
    assert client.get(endpoint["path"], {"client_id": tenant_b.pk}).status_code == 403


def test_include_ml_fields_is_tolerated_and_changes_nothing(api, endpoint, admin_a, tenant_a):
    row = endpoint["factory"](client=tenant_a)
    response = api(admin_a).get(endpoint["path"], {"include_ml_fields": "true"})
    assert response.status_code == 200
    assert "ml_fields_included" not in response.json()
    assert response.json()[endpoint["key"]][0].keys() == (
        api(admin_a).get(f"{endpoint['path']}/{row.pk}").json().keys()
    )


def test_soft_deleted_rows_are_gone(api, endpoint, admin_a, tenant_a):
    row = endpoint["factory"](client=tenant_a, active=False)
    client = api(admin_a)
    assert ids(client.get(endpoint["path"]), endpoint["key"]) == []
    assert client.get(f"{endpoint['path']}/{row.pk}").status_code == 404


def test_superuser_may_read_another_client(api, endpoint, tenant_a, tenant_b):
    operator = UserFactory(client=tenant_a, role="user", is_superuser=True, is_staff=True)
    theirs = endpoint["factory"](client=tenant_b)
    response = api(operator).get(endpoint["path"], {"client_id": tenant_b.pk})
    assert ids(response, endpoint["key"]) == [theirs.pk]


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"ordering": "nope"}, "ordering"),
        ({"include_ml_fields": "perhaps"}, "include_ml_fields"),
        ({"unknown_param": "1"}, "unknown_param"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(api, endpoint, admin_a, params, bad):
    response = api(admin_a).get(endpoint["path"], params)
    assert response.status_code == 400
    assert bad in response.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_405(api, endpoint, admin_a, tenant_a, method):
    row = endpoint["factory"](client=tenant_a)
    before = type(row).objects.filter(pk=row.pk).values().get()
    client = api(admin_a)
    assert getattr(client, method)(endpoint["path"], {}, format="json").status_code == 405
    detail = f"{endpoint['path']}/{row.pk}"
    assert getattr(client, method)(detail, {"active": False}, format="json").status_code == 405
    assert type(row).objects.filter(pk=row.pk).values().get() == before


def test_list_query_count_does_not_grow_with_the_page(api, endpoint, admin_a, tenant_a):
    for _ in range(51):
        endpoint["factory"](client=tenant_a)
    client = api(admin_a)
    client.get(endpoint["path"])  # the token is remembered from here on
    for page_size in (1, 50):
        with CaptureQueriesContext(connections["default"]) as queries:
            response = client.get(endpoint["path"], {"limit": page_size})
        assert response.json()["count"] == page_size
        assert response.json()["total_count"] == 51
        # The page, and the count (ML tables keep no per-client counter).
        assert len(queries) == 2, [q["sql"] for q in queries]


# ---- filters -------------------------------------------------------------------------------


def test_learning_memory_error_type_filter(api, admin_a, tenant_a):
    wanted = LearningMemoryFactory(client=tenant_a, error_type="wrong_table")
    LearningMemoryFactory(client=tenant_a, error_type="sql_syntax")
    response = api(admin_a).get("/api/ml/learning-memory", {"error_type": "wrong_table"})
    assert ids(response, "learning_memories") == [wanted.pk]
    assert response.json()["error_type_filter"] == "wrong_table"
    assert response.json()["total_count"] == 1


def test_learning_memory_error_type_longer_than_the_column_is_400(api, admin_a):
    response = api(admin_a).get("/api/ml/learning-memory", {"error_type": "x" * 51})
    assert response.status_code == 400
    assert "error_type" in response.json()


def test_prediction_log_filters(api, admin_a, tenant_a):
    calm = PredictionLogFactory(client=tenant_a, model_name="story_point_estimator")
    odd = PredictionLogFactory(
        client=tenant_a, model_name="cycle_time_predictor", is_anomaly=True, severity="critical"
    )
    client = api(admin_a)
    by_model = client.get("/api/ml/prediction-logs", {"model_name": "story_point_estimator"})
    assert ids(by_model, "prediction_logs") == [calm.pk]
    assert by_model.json()["model_name_filter"] == "story_point_estimator"
    by_severity = client.get("/api/ml/prediction-logs", {"severity": "critical"})
    assert ids(by_severity, "prediction_logs") == [odd.pk]
    assert by_severity.json()["model_name_filter"] is None
    assert ids(
        client.get("/api/ml/prediction-logs", {"is_anomaly": "true"}), "prediction_logs"
    ) == [odd.pk]
    assert ids(client.get("/api/ml/prediction-logs", {"is_anomaly": "0"}), "prediction_logs") == [
        calm.pk
    ]


@pytest.mark.parametrize(
    ("path", "params", "bad"),
    [
        ("/api/ml/prediction-logs", {"severity": "high"}, "severity"),
        ("/api/ml/prediction-logs", {"is_anomaly": "maybe"}, "is_anomaly"),
        ("/api/ml/prediction-logs", {"model_name": "m" * 101}, "model_name"),
        ("/api/ml/anomaly-alerts", {"acknowledged": "maybe"}, "acknowledged"),
        ("/api/ml/anomaly-alerts", {"severity": "normal"}, "severity"),
    ],
)
def test_bad_filter_values_are_400_naming_the_filter(api, admin_a, path, params, bad):
    response = api(admin_a).get(path, params)
    assert response.status_code == 400
    assert bad in response.json()


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("false", False), ("True", True), ("1", True)]
)
def test_anomaly_alert_acknowledged_filter(api, admin_a, tenant_a, raw, expected):
    open_alert = AnomalyAlertFactory(client=tenant_a)
    done = AnomalyAlertFactory(client=tenant_a, acknowledged=True)
    response = api(admin_a).get("/api/ml/anomaly-alerts", {"acknowledged": raw})
    assert ids(response, "anomaly_alerts") == [done.pk if expected else open_alert.pk]
    assert response.json()["acknowledged_filter"] is expected


def test_anomaly_alert_severity_filter(api, admin_a, tenant_a):
    critical = AnomalyAlertFactory(client=tenant_a, severity="critical")
    AnomalyAlertFactory(client=tenant_a, severity="low")
    response = api(admin_a).get("/api/ml/anomaly-alerts", {"severity": "critical"})
    assert ids(response, "anomaly_alerts") == [critical.pk]
    assert response.json()["acknowledged_filter"] is None


def test_acknowledged_by_is_the_users_id(api, admin_a, tenant_a):
    alert = AnomalyAlertFactory(client=tenant_a, acknowledged=True, acknowledged_by=admin_a)
    body = api(admin_a).get(f"/api/ml/anomaly-alerts/{alert.pk}").json()
    assert body["acknowledged_by"] == admin_a.pk


def test_non_finite_predictions_render_as_null(api, admin_a, tenant_a):
    log = PredictionLogFactory(
        client=tenant_a, prediction_value=float("nan"), anomaly_score=float("inf")
    )
    response = api(admin_a).get(f"/api/ml/prediction-logs/{log.pk}")
    assert response.status_code == 200
    assert (response.json()["prediction_value"], response.json()["anomaly_score"]) == (None, None)
