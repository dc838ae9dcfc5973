"""The OpenAPI schema generates without warnings, and the docs are served offline."""

import pytest
from django.core.management import call_command


def test_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    assert "PaginatedIssueList" in schema and "bearerAuth" in schema


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_docs_are_served(client, path):
    response = client.get(path, SERVER_NAME="localhost")
    assert response.status_code == 200
    if path != "/api/schema/":
        assert b"cdn" not in response.content.lower()


def test_the_item_schemas_describe_the_embedding():
    from core.tests.schema_operations import schema

    components = schema()["components"]["schemas"]
    for name in ("Issue", "Project", "PullRequest", "User"):
        embedding = components[name]["properties"]["embedding"]
        assert embedding["type"] == "array" and embedding["nullable"] is True
        assert embedding["minItems"] == embedding["maxItems"] == 1536
        # Only with include_ml_fields=true: never a required property.
        assert "embedding" not in components[name].get("required", [])
