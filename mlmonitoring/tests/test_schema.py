"""The OpenAPI schema documents the ML endpoints as they answer."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    # --fail-on-warn: a field or filter the generator cannot type fails the test.
    call_command("spectacular", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize(
    ("path", "envelope", "echo", "echo_type"),
    [
        ("/api/ml/learning-memory/", "PaginatedLearningMemoryList", "error_type_filter", "string"),
        ("/api/ml/prediction-logs/", "PaginatedPredictionLogList", "model_name_filter", "string"),
        ("/api/ml/anomaly-alerts/", "PaginatedAnomalyAlertList", "acknowledged_filter", "boolean"),
    ],
)
def test_ml_lists_are_documented_as_they_answer(schema, path, envelope, echo, echo_type):
    operation = schema["paths"][path]["get"]
    assert set(schema["paths"][path]) == {"get"}  # read-only
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"limit", "offset", "client_id"} <= names
    assert "include_ml_fields" not in names
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 50)
    properties = schema["components"]["schemas"][envelope]["properties"]
    assert "ml_fields_included" not in properties
    assert properties[echo]["type"] == echo_type
    assert {"400", "401", "403"} <= set(operation["responses"])
