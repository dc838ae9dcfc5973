"""Embeddings and similarity search, checked against exact (brute-force) cosine distances."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings
from django.db import connections, transaction
from pgvector.django import CosineDistance

from core.similarity import SEARCH_SETTINGS, nearest_sql
from core.testing import wait_for_standby
from core.tests.factories import ClientFactory
from issues.models import Issue
from issues.tests.factories import IssueFactory
from projects.tests.factories import ProjectFactory
from pullrequests.tests.factories import PullRequestFactory
from users.tests.factories import UserFactory

DIM = 1536


def clustered_vectors(rng: np.random.Generator, n: int, centers: np.ndarray) -> np.ndarray:
    picks = rng.integers(0, len(centers), n)
    vectors = centers[picks] + rng.normal(scale=0.35, size=(n, DIM)) / np.sqrt(DIM)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact_neighbours(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    distances = 1 - (vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return [int(ids[i]) for i in np.argsort(distances, kind="stable")[:k]]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_search_quality_against_brute_force(api):
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(24, DIM))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    sizes = {"big": 5000, "mid": 800, "other": 635, "small": 65}  # "small" holds 1% of the rows
    clients = {name: ClientFactory(name=f"vectors-{name}") for name in sizes}
    data = {}
    for name, size in sizes.items():
        vectors = clustered_vectors(rng, size, centers)
        rows = Issue.objects.bulk_create(
            Issue(
                client=clients[name], key=f"{name}-{i}", summary=f"{name} {i}", embedding=vectors[i]
            )
            for i in range(size)
        )
        data[name] = (np.array([row.pk for row in rows]), vectors)
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE issues")  # as autovacuum would after a bulk load
    wait_for_standby()
    reader = UserFactory(client=clients["big"], role="viewer")
    client = api(reader)

    # Recall@10 of GET /{id}/similar against the exact answer, on the big client.
    ids, vectors = data["big"]
    recalls = []
    for position in rng.choice(len(ids), 25, replace=False):
        response = client.get(f"/api/issues/{ids[position]}/similar", {"limit": 10})
        assert response.status_code == 200, response.json()
        body = response.json()
        got = [row["id"] for row in body["issues"]]
        distances = [row["distance"] for row in body["issues"]]
        assert distances == sorted(distances)
        assert all(abs(row["similarity"] - (1 - row["distance"])) < 1e-9 for row in body["issues"])
        assert int(ids[position]) not in got
        others = np.delete(np.arange(len(ids)), position)
        exact = exact_neighbours(vectors[others], ids[others], vectors[position], 10)
        recalls.append(len(set(got) & set(exact)) / 10)
    assert np.mean(recalls) >= 0.95, recalls

    # The small client gets k results, all its own, exactly ranked.
    small_ids, small_vectors = data["small"]
    query = clustered_vectors(rng, 1, centers)[0]
    small_client = api(UserFactory(client=clients["small"], role="user"))
    response = small_client.post(
        "/api/issues/similar", {"embedding": query.tolist(), "limit": 10}, format="json"
    )
    assert response.status_code == 200, response.json()
    got = [row["id"] for row in response.json()["issues"]]
    assert len(got) == 10
    assert got == exact_neighbours(small_vectors, small_ids, query, 10)

    # The big client's searches, by a vector and by a stored one, as the endpoints run them (and
    # as the ORM would write them), are served by the HNSW index, on the ML session of the standby.
    big = Issue.objects.filter(client=clients["big"], active=True)
    searched = int(ids[0])
    stored = big.filter(pk=searched, embedding__isnull=False).order_by().values("embedding")
    candidates = big.exclude(pk=searched).filter(embedding__isnull=False).order_by()
    statements = [
        nearest_sql("ml", candidates, query.tolist(), 10, ["id"]),
        nearest_sql("ml", candidates, stored, 10, ["id", "key"]),
        big.using("ml")
        .annotate(distance=CosineDistance("embedding", query.tolist()))
        .order_by("distance")[:10]
        .query.sql_with_params(),
    ]
    plans = []
    with transaction.atomic(using="ml"), connections["ml"].cursor() as cursor:
        cursor.execute(SEARCH_SETTINGS, [str(settings.VECTOR_EF_SEARCH), "20000"])
        for sql, params in statements:
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True
    for plan in plans:
        assert "Index Scan using issues_embedding_hnsw" in plan, plan
        assert "Sort" not in plan.split("Index Scan using issues_embedding_hnsw")[0], plan


@pytest.mark.django_db
class TestEmbeddingEndpoints:
    """Writing embeddings, validation, roles and isolation."""

    def test_put_get_and_delete_an_embedding(self, api, user_a, tenant_a):
        issue = IssueFactory(client=tenant_a)
        client = api(user_a)
        vector = [0.001 * (i % 7 + 1) for i in range(DIM)]
        response = client.put(
            f"/api/issues/{issue.pk}/embedding", {"embedding": vector}, format="json"
        )
        assert response.status_code == 200
        assert response.json() == {"id": issue.pk, "embedding_dimensions": DIM}
        stored = client.get(f"/api/issues/{issue.pk}", {"include_ml_fields": "true"}).json()[
            "embedding"
        ]
        assert np.allclose(stored, vector, rtol=1e-6)
        assert client.delete(f"/api/issues/{issue.pk}/embedding").status_code == 204
        assert (
            client.get(f"/api/issues/{issue.pk}", {"include_ml_fields": "true"}).json()["embedding"]
            is None
        )

    @pytest.mark.parametrize(
        ("embedding", "message"),
        [
            ([0.1] * 768, "expected 1536 dimensions, got 768"),
            ("not a list", "expected a list of 1536 numbers, got str"),
            ([0.1] * 1535 + ["x"], "expected numbers, got str at position 1535"),
            ([0.1] * 1535 + [True], "expected numbers, got bool at position 1535"),
            ([0.1] * 1535 + [1e39], "finite"),
        ],
    )
    def test_bad_embeddings_are_400_saying_what_was_expected(
        self, api, user_a, tenant_a, embedding, message
    ):
        issue = IssueFactory(client=tenant_a)
        response = api(user_a).put(
            f"/api/issues/{issue.pk}/embedding", {"embedding": embedding}, format="json"
        )
        assert response.status_code == 400
        assert message in response.json()["embedding"][0]

    def test_nan_and_infinity_are_400(self, api, user_a, tenant_a):
        issue = IssueFactory(client=tenant_a)
        for literal in ("NaN", "Infinity", "-Infinity"):
            body = '{"embedding": [' + ",".join(["0.1"] * 1535 + [literal]) + "]}"
            response = api(user_a).put(
                f"/api/issues/{issue.pk}/embedding", body, content_type="application/json"
            )
            assert response.status_code == 400, literal

    def test_viewers_cannot_write_embeddings(self, api, viewer_a, tenant_a):
        issue = IssueFactory(client=tenant_a)
        response = api(viewer_a).put(
            f"/api/issues/{issue.pk}/embedding", {"embedding": [0.1] * DIM}, format="json"
        )
        assert response.status_code == 403

    def test_a_zero_vector_is_refused_and_a_stored_one_is_no_ones_neighbour(
        self, api, user_a, tenant_a
    ):
        """A zero vector has no direction: no item is near or far from it. Sent, it is a 400;
        written by a direct writer, its row is never a neighbour and finds none."""
        zero, other = (
            IssueFactory(client=tenant_a, embedding=[0.0] * DIM),
            IssueFactory(client=tenant_a, embedding=[0.1] * DIM),
        )
        client = api(user_a)
        for response in (
            client.put(
                f"/api/issues/{other.pk}/embedding", {"embedding": [0.0] * DIM}, format="json"
            ),
            client.post("/api/issues/similar", {"embedding": [0.0] * DIM}, format="json"),
            # Not 0 as sent, 0 as stored: below float32's smallest number.
            client.put(
                f"/api/issues/{other.pk}/embedding", {"embedding": [1e-46] * DIM}, format="json"
            ),
        ):
            assert response.status_code == 400
            assert "zero vector" in response.json()["embedding"][0]
        assert client.get(f"/api/issues/{zero.pk}/similar").json()["issues"] == []
        rows = client.post("/api/issues/similar", {"embedding": [0.2] * DIM}, format="json").json()[
            "issues"
        ]
        assert [row["id"] for row in rows] == [other.pk]

    def test_similar_without_an_embedding_is_409(self, api, user_a, tenant_a):
        issue = IssueFactory(client=tenant_a)
        # Other items with vectors: the search runs, and its NULL distances are no answer.
        IssueFactory(client=tenant_a, embedding=[0.1] * DIM)
        response = api(user_a).get(f"/api/issues/{issue.pk}/similar")
        assert response.status_code == 409
        assert "embedding" in response.json()["detail"]

    def test_similar_of_a_row_that_is_not_the_callers_is_404(self, api, user_a, tenant_a, tenant_b):
        # The caller's rows have vectors: a search by another client's vector would find them.
        IssueFactory(client=tenant_a, embedding=[0.1] * DIM)
        theirs = IssueFactory(client=tenant_b, embedding=[0.1] * DIM)
        gone = IssueFactory(client=tenant_a, embedding=[0.1] * DIM, active=False)
        for row_id in (theirs.pk, gone.pk, 10**17):
            response = api(user_a).get(f"/api/issues/{row_id}/similar")
            assert response.status_code == 404, row_id
            assert "issues" not in response.json()

    def test_similar_with_no_neighbours_is_an_empty_list(self, api, user_a, tenant_a):
        lonely = IssueFactory(client=tenant_a, embedding=[0.1] * DIM)
        IssueFactory(client=tenant_a)  # no vector: never a neighbour
        response = api(user_a).get(f"/api/issues/{lonely.pk}/similar")
        assert response.status_code == 200
        assert response.json()["issues"] == [] and response.json()["count"] == 0

    def test_similar_limit_is_validated(self, api, user_a, tenant_a):
        issue = IssueFactory(client=tenant_a, embedding=[0.1] * DIM)
        for bad in (0, 101, "x"):
            response = api(user_a).get(f"/api/issues/{issue.pk}/similar", {"limit": bad})
            assert response.status_code == 400 and "limit" in response.json()

    def test_another_clients_near_identical_vector_never_appears(
        self, api, user_a, tenant_a, tenant_b
    ):
        vector = np.linspace(0.1, 1.0, DIM)
        # Both clients have a project of the same key: a filter through a join searches only
        # the caller's (a statement Django compiles in full).
        ours, theirs = (
            ProjectFactory(client=tenant, key="SAME") for tenant in (tenant_a, tenant_b)
        )
        mine = IssueFactory(client=tenant_a, embedding=vector, project=ours)
        neighbour = IssueFactory(client=tenant_a, embedding=vector[::-1].copy(), project=ours)
        IssueFactory(client=tenant_b, embedding=vector * 1.0001, project=theirs)
        deleted = IssueFactory(client=tenant_a, embedding=vector, active=False)
        rows = api(user_a).get(f"/api/issues/{mine.pk}/similar").json()["issues"]
        assert [row["id"] for row in rows] == [neighbour.pk]
        assert deleted.pk not in [row["id"] for row in rows]
        rows = (
            api(user_a)
            .post("/api/issues/similar", {"embedding": vector.tolist()}, format="json")
            .json()["issues"]
        )
        assert [row["id"] for row in rows] == [mine.pk, neighbour.pk]
        rows = (
            api(user_a)
            .post(
                "/api/issues/similar?project_key=SAME",
                {"embedding": vector.tolist()},
                format="json",
            )
            .json()["issues"]
        )
        assert [row["id"] for row in rows] == [mine.pk, neighbour.pk]

    @pytest.mark.parametrize(
        ("resource", "factory"),
        [
            ("issues", IssueFactory),
            ("pull-requests", PullRequestFactory),
            ("projects", ProjectFactory),
        ],
    )
    def test_every_resource_answers_similar_alike(
        self, api, user_a, tenant_a, tenant_b, resource, factory
    ):
        client = api(user_a)
        searched = factory(client=tenant_a, embedding=[0.1] * DIM)
        near = factory(client=tenant_a, embedding=[0.1] * (DIM - 1) + [0.2])
        bare = factory(client=tenant_a)
        theirs = factory(client=tenant_b, embedding=[0.1] * DIM)
        body = client.get(f"/api/{resource}/{searched.pk}/similar").json()
        (item,) = body[next(key for key in body if key not in ("count", "limit"))]
        assert item["id"] == near.pk and 0 < item["distance"] < 0.01
        assert item["similarity"] == 1.0 - item["distance"] and body["count"] == 1
        assert client.get(f"/api/{resource}/{bare.pk}/similar").status_code == 409
        assert client.get(f"/api/{resource}/{theirs.pk}/similar").status_code == 404

    def test_search_accepts_list_filters(self, api, user_a, tenant_a):
        project = ProjectFactory(client=tenant_a)
        inside = IssueFactory(client=tenant_a, project=project, embedding=[0.2] * DIM)
        IssueFactory(client=tenant_a, embedding=[0.2] * DIM)
        response = api(user_a).post(
            f"/api/issues/similar?project_id={project.pk}",
            {"embedding": [0.2] * DIM},
            format="json",
        )
        assert [row["id"] for row in response.json()["issues"]] == [inside.pk]

    def test_pull_requests_and_projects_have_the_same_endpoints(self, api, user_a, tenant_a):
        client = api(user_a)
        project = ProjectFactory(client=tenant_a)
        assert (
            client.put(
                f"/api/projects/{project.pk}/embedding", {"embedding": [0.3] * DIM}, format="json"
            ).status_code
            == 200
        )
        assert (
            client.post(
                "/api/pull-requests/similar", {"embedding": [0.3] * DIM}, format="json"
            ).status_code
            == 200
        )
        assert client.get(f"/api/projects/{project.pk}/similar").status_code == 200

    def test_another_tenants_item_is_404(self, api, user_a, tenant_b):
        theirs = IssueFactory(client=tenant_b, embedding=[0.1] * DIM)
        client = api(user_a)
        assert client.get(f"/api/issues/{theirs.pk}/similar").status_code == 404
        assert (
            client.put(
                f"/api/issues/{theirs.pk}/embedding", {"embedding": [0.2] * DIM}, format="json"
            ).status_code
            == 404
        )
        assert client.delete(f"/api/issues/{theirs.pk}/embedding").status_code == 404
