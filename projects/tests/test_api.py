"""Project endpoints: key uniqueness per client, filters."""

import pytest

from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_key_is_unique_within_a_client_only(api, admin_a, admin_b, tenant_a):
    ProjectFactory(client=tenant_a, key="PLAT")
    response = api(admin_a).post("/api/projects", {"key": "PLAT", "name": "Again"}, format="json")
    assert response.status_code == 409
    assert "key" in response.json()["fields"]
    assert (
        api(admin_b)
        .post("/api/projects", {"key": "PLAT", "name": "Theirs"}, format="json")
        .status_code
        == 201
    )


def test_a_deleted_key_can_be_reused(api, admin_a, tenant_a):
    project = ProjectFactory(client=tenant_a, key="OLD")
    client = api(admin_a)
    assert client.delete(f"/api/projects/{project.pk}").status_code == 204
    assert (
        client.post("/api/projects", {"key": "OLD", "name": "Reborn"}, format="json").status_code
        == 201
    )


def test_filters(api, admin_a, tenant_a):
    ProjectFactory(client=tenant_a, key="WEB", name="Storefront", project_type="software")
    ProjectFactory(client=tenant_a, key="OPS", name="Operations", project_type="service_desk")
    client = api(admin_a)
    rows = client.get("/api/projects", {"project_type": "service_desk"}).json()["projects"]
    assert [row["key"] for row in rows] == ["OPS"]
    rows = client.get("/api/projects", {"search": "store"}).json()["projects"]
    assert [row["key"] for row in rows] == ["WEB"]
