"""The synthetic data set: created, migrated and loaded with COPY into the benchmark database.

Rows go in through binary COPY (vectors as numpy arrays through pgvector's psycopg dumper), with
the tables' secondary indexes dropped during the load and rebuilt afterwards (an HNSW index is
built far faster in one pass than row by row). A marker table remembers the sizes loaded, so a
second run with the same sizes measures at once; ``BENCH_RELOAD=1`` starts over.

Vectors imitate text embeddings: 20 broad topics in a 64-dimension latent space, spread widely
around each topic, projected to 1536 dimensions with noise and normalised. Neighbourhoods exist
(uniform random vectors have none, and no index can be judged on them) but overlap, so recall
depends on ``hnsw.ef_search`` as it does with real embeddings; tight clusters made every setting
look perfect.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import orjson
import psycopg
from django.core.management import call_command
from django.db import connections
from pgvector.psycopg import register_vector

from bench.progress import Progress, step
from bench.sizes import Sizes

DIMENSIONS = 1536
LATENT_DIMENSIONS = 64
TOPICS = 20
# Part of the marker: a data set made by another generator is loaded again.
GENERATOR = f"topics={TOPICS} latent={LATENT_DIMENSIONS} spread=1.0 noise=0.3"
CHUNK = 5_000
START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
SPAN = 2 * 365 * 86_400
MARKER = "bench_dataset"

WORDS = [
    "login",
    "cache",
    "checkout",
    "invoice",
    "search",
    "export",
    "import",
    "billing",
    "sync",
    "token",
    "session",
    "upload",
    "report",
    "dashboard",
    "webhook",
    "queue",
    "retry",
    "timeout",
    "memory",
    "index",
    "schema",
    "migration",
    "replica",
    "latency",
    "payment",
    "refund",
    "profile",
    "avatar",
    "email",
    "notification",
    "permission",
    "audit",
]
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
STATUSES = ["To Do", "In Progress", "In Review", "Done", "Closed"]
TYPES = ["Bug", "Story", "Task", "Epic", "Sub-task"]
PEOPLE = [f"engineer{n}" for n in range(40)]
TEAMS = ["Platform", "Payments", "Growth", "Mobile", "Data"]

ISSUE_COLUMNS = [
    ("id", "int8"), ("client_id", "int8"), ("active", "bool"), ("created_at", "timestamptz"),
    ("last_updated_at", "timestamptz"), ("key", "text"), ("summary", "text"),
    ("description", "text"), ("priority", "text"), ("status_name", "text"),
    ("issuetype_name", "text"), ("assignee", "text"), ("reporter", "text"),
    ("story_points", "float8"), ("epic_link", "text"), ("project_id", "int8"),
    ("status_id", "text"), ("issuetype_id", "text"), ("labels", "varchar[]"), ("team", "text"),
    ("created", "timestamptz"), ("updated", "timestamptz"),
    ("work_first_started_at", "timestamptz"), ("work_first_completed_at", "timestamptz"),
    ("work_last_started_at", "timestamptz"), ("work_last_completed_at", "timestamptz"),
    ("total_cycle_time_seconds", "int8"), ("total_lead_time_seconds", "int8"),
    ("workflow_cycle_count", "int4"), ("embedding", "vector"),
]  # fmt: skip
PULL_REQUEST_COLUMNS = [
    ("id", "int8"), ("client_id", "int8"), ("active", "bool"), ("created_at", "timestamptz"),
    ("last_updated_at", "timestamptz"), ("external_id", "text"), ("repository", "text"),
    ("number", "int4"), ("name", "text"), ("user_name", "text"), ("body", "text"),
    ("status", "text"), ("url", "text"), ("source", "text"), ("destination", "text"),
    ("issue_id", "int8"), ("commit_count", "int4"), ("additions", "int4"), ("deletions", "int4"),
    ("changed_files", "int4"), ("review_cycles", "int4"), ("rework_commit_count", "int4"),
    ("pr_created_at", "timestamptz"), ("first_review_at", "timestamptz"),
    ("merged_at", "timestamptz"), ("closed_at", "timestamptz"), ("embedding", "vector"),
]  # fmt: skip


def server_params(database: str) -> dict:
    """libpq parameters for the primary, on ``database``, without the API's statement timeout."""
    settings = connections["default"].settings_dict
    params = {
        "host": settings["HOST"],
        "port": settings["PORT"] or None,
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
        "dbname": database,
    }
    return {key: value for key, value in params.items() if value}


class VectorSource:
    """Embedding-like unit vectors: topics in a latent space, projected and noised."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.topics = self.rng.normal(size=(TOPICS, LATENT_DIMENSIONS))
        projection = self.rng.normal(size=(LATENT_DIMENSIONS, DIMENSIONS))
        self.projection = projection / np.sqrt(LATENT_DIMENSIONS)

    def take(self, count: int) -> np.ndarray:
        topic = self.topics[self.rng.integers(0, TOPICS, count)]
        latent = topic + self.rng.normal(size=(count, LATENT_DIMENSIONS))
        vectors = latent @ self.projection
        vectors += 0.3 * self.rng.normal(size=(count, DIMENSIONS))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)


def _timestamps(rng: np.random.Generator, count: int) -> np.ndarray:
    return START + rng.random(count) * SPAN


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _client_of_rows(rng: np.random.Generator, counts: list[int]) -> np.ndarray:
    """Which client (index) owns each row; clients' rows are interleaved like real loads."""
    owners = np.repeat(np.arange(len(counts)), counts)
    rng.shuffle(owners)
    return owners


def _issue_rows(
    sizes: Sizes, client_ids: list[int], project_ids: list[list[int]], vectors: VectorSource
) -> Iterator[tuple]:
    rng = np.random.default_rng(sizes.seed + 1)
    owners = _client_of_rows(rng, sizes.client_issue_counts)
    summaries = [
        " ".join(rng.choice(WORDS, 6)).capitalize() + " fails under load" for _ in range(997)
    ]
    descriptions = [" ".join(rng.choice(WORDS, 40)) + "." for _ in range(991)]
    for start in range(0, sizes.issues, CHUNK):
        count = min(CHUNK, sizes.issues - start)
        created = _timestamps(rng, count)
        embedded = rng.random(count) < sizes.embedded_share
        chunk_vectors = vectors.take(int(embedded.sum()))
        next_vector = 0
        for offset in range(count):
            number = start + offset
            owner = owners[number]
            projects = project_ids[owner]
            made = created[offset]
            started = made + 3_600 * (1 + number % 72)
            done = started + 86_400 * (1 + number % 9)
            embedding = None
            if embedded[offset]:
                embedding = chunk_vectors[next_vector]
                next_vector += 1
            yield (
                number + 1, client_ids[owner], number % 50 != 0, _dt(made), _dt(done),
                f"C{owner}-{number}", summaries[number % 997], descriptions[number % 991],
                PRIORITIES[number % 5], STATUSES[(number // 5) % 5], TYPES[(number // 25) % 5],
                PEOPLE[number % 40], PEOPLE[(number // 40) % 40], float(number % 13),
                f"C{owner}-EPIC-{number % 20}", projects[number % len(projects)],
                str(10_000 + number % 5), str(1 + (number // 25) % 5),
                ["backend", WORDS[number % len(WORDS)]], TEAMS[number % 5], _dt(made),
                _dt(done), _dt(started), _dt(done), _dt(started), _dt(done),
                int(done - started), int(done - made), 1 + number % 3, embedding,
            )  # fmt: skip


def _pull_request_rows(
    sizes: Sizes, client_ids: list[int], vectors: VectorSource
) -> Iterator[tuple]:
    rng = np.random.default_rng(sizes.seed + 2)
    share = [count / sizes.issues for count in sizes.client_issue_counts]
    counts = [int(sizes.pull_requests * part) for part in share]
    counts[0] += sizes.pull_requests - sum(counts)
    owners = _client_of_rows(rng, counts)
    with_vector = np.zeros(sizes.pull_requests, dtype=bool)
    with_vector[rng.choice(sizes.pull_requests, sizes.vectors, replace=False)] = True
    numbers = [0] * len(counts)
    titles = [" ".join(rng.choice(WORDS, 5)).capitalize() for _ in range(997)]
    bodies = [" ".join(rng.choice(WORDS, 30)) + "." for _ in range(991)]
    for start in range(0, sizes.pull_requests, CHUNK):
        count = min(CHUNK, sizes.pull_requests - start)
        created = _timestamps(rng, count)
        chunk_vectors = vectors.take(int(with_vector[start : start + count].sum()))
        next_vector = 0
        for offset in range(count):
            index = start + offset
            owner = owners[index]
            numbers[owner] += 1
            made = created[offset]
            merged = made + 3_600 * (2 + index % 96)
            embedding = None
            if with_vector[index]:
                embedding = chunk_vectors[next_vector]
                next_vector += 1
            status = ("merged", "open", "closed")[index % 3]
            yield (
                index + 1, client_ids[owner], index % 50 != 0, _dt(made), _dt(merged),
                str(900_000 + index), f"org{owner}/service-{index % 20}", numbers[owner],
                titles[index % 997], PEOPLE[index % 40], bodies[index % 991], status,
                f"https://git.example.test/org{owner}/pull/{numbers[owner]}",
                f"feature/{WORDS[index % len(WORDS)]}", "main", None, 1 + index % 12,
                index % 500, index % 200, 1 + index % 30, index % 4, index % 3, _dt(made),
                _dt(made + 1_800), _dt(merged) if status == "merged" else None,
                _dt(merged) if status != "open" else None, embedding,
            )  # fmt: skip


def _copy(
    connection: psycopg.Connection, table: str, columns: list[tuple], rows, total: int
) -> None:
    progress = Progress(table, total)
    names = ", ".join(f'"{name}"' for name, _ in columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types([kind for _, kind in columns])
        for row in rows:
            copy.write_row(row)
            progress.advance()
    progress.finish()


def _secondary_indexes(cursor: psycopg.Cursor, table: str) -> list[tuple[str, str]]:
    """Indexes of ``table`` that back no constraint: (name, definition)."""
    cursor.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        [table],
    )
    return cursor.fetchall()


def _marker(sizes: Sizes) -> dict:
    return {**sizes.as_dict(), "generator": GENERATOR}


def dataset_loaded(database: str, sizes: Sizes) -> bool:
    """True when ``database`` already holds exactly this data set."""
    try:
        with psycopg.connect(**server_params(database)) as connection:
            row = connection.execute(f"SELECT sizes FROM {MARKER}").fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == _marker(sizes)


def recreate_database(database: str) -> None:
    """Drop and create the benchmark database, then migrate it."""
    connections.close_all()
    with psycopg.connect(**server_params("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    step(f"created database {database}; migrating")
    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()


def load(database: str, sizes: Sizes) -> None:
    """Fill the (migrated, empty) benchmark database with the synthetic data set."""
    started = time.monotonic()
    vectors = VectorSource(sizes.seed)
    with psycopg.connect(**server_params(database)) as connection:
        register_vector(connection)
        cursor = connection.cursor()
        now = datetime.now(UTC)
        client_ids = [
            cursor.execute(
                "INSERT INTO clients (name, active, created_at, last_updated_at) "
                "VALUES (%s, true, %s, %s) RETURNING id",
                [f"Bench client {n}", now, now],
            ).fetchone()[0]
            for n in range(sizes.clients)
        ]
        project_ids: list[list[int]] = []
        for owner, client_id in enumerate(client_ids):
            cursor.execute(
                "INSERT INTO projects (client_id, active, created_at, last_updated_at, key, name,"
                " project_type) SELECT %s, true, %s, %s, %s || n, 'Project ' || n, 'software'"
                " FROM generate_series(1, %s) AS n",
                [client_id, now, now, f"C{owner}P", sizes.projects_per_client],
            )
            cursor.execute("SELECT id FROM projects WHERE client_id = %s ORDER BY id", [client_id])
            project_ids.append([row[0] for row in cursor.fetchall()])
        dropped = {}
        for table in ("issues", "pull_requests"):
            dropped[table] = _secondary_indexes(cursor, table)
            for name, _ in dropped[table]:
                cursor.execute(f'DROP INDEX "{name}"')
        connection.commit()
        _copy(
            connection,
            "issues",
            ISSUE_COLUMNS,
            _issue_rows(sizes, client_ids, project_ids, vectors),
            sizes.issues,
        )
        _copy(
            connection,
            "pull_requests",
            PULL_REQUEST_COLUMNS,
            _pull_request_rows(sizes, client_ids, vectors),
            sizes.pull_requests,
        )
        for table in ("issues", "pull_requests"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        connection.commit()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        indexes = [definition for table in dropped.values() for definition in table]
        progress = Progress("indexes", len(indexes))
        for _, definition in indexes:
            cursor.execute(definition)
            connection.commit()
            progress.advance()
        progress.finish()
    with psycopg.connect(**server_params(database), autocommit=True) as connection:
        step("VACUUM ANALYZE")
        connection.execute("VACUUM ANALYZE")
        connection.execute(f"CREATE TABLE {MARKER} (sizes jsonb NOT NULL, loaded_at timestamptz)")
        connection.execute(
            f"INSERT INTO {MARKER} VALUES (%s::jsonb, now())",
            [orjson.dumps(_marker(sizes)).decode()],
        )
    step(f"data set loaded in {time.monotonic() - started:.0f}s")
