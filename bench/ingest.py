"""Data in and data out: bulk upsert (h) and an incremental-sync pass (i), over HTTP.

(h) writes 10,000 issues of a client of their own, in requests of 1,000 rows, twice: new
(10,000 created), then with every row changed (10,000 updated). The floor writes the same rows
with raw psycopg in the same batches and transactions: ``INSERT ... SELECT FROM
jsonb_to_recordset(...) ON CONFLICT (client_id, key) WHERE active DO UPDATE ... WHERE`` the row
differs. Both run on the same primary, tables, indexes and triggers; the rows are deleted before
each new round. Rounds alternate (ours, floor, ours, ...); medians.

(i) follows ``?sync=&include_deleted=true`` pages of 1,000 rows over the big client's issues
(deleted ones as tombstones, as a copy needs them), from an empty token until ``more`` is false;
the floor is one raw query of the same rows in the same order, dumped with orjson.
"""

from __future__ import annotations

import http.client
import random
import time

import orjson
import psycopg
from django.db import connections

from bench.floor import connection_params, replica_params
from bench.loadgen import HOST, PROXY_HEADERS, http_get
from bench.progress import step
from bench.scenarios import Context, Row, _ratio_row
from bench.server import gunicorn
from bench.timing import median
from core.api.rows import row_plan
from issues.serializers import IssueSerializer
from users.models import ApiToken, User

ROWS = 10_000
BATCH = 1_000
ROUNDS = 3
BULK_TARGET = 3.0
STATUSES = ("To Do", "In Progress", "In Review", "Done")
PRIORITIES = ("Highest", "High", "Medium", "Low")
TYPES = ("Story", "Bug", "Task", "Epic")
# The columns the rows give, with their types (as the floor's recordset declares them).
FLOOR_COLUMNS = {
    "key": "varchar(50)",
    "summary": "varchar(1000)",
    "description": "text",
    "priority": "varchar(50)",
    "status_name": "varchar(100)",
    "issuetype_name": "varchar(100)",
    "assignee": "varchar(255)",
    "reporter": "varchar(255)",
    "story_points": "double precision",
    "labels": "varchar(100)[]",
    "team": "varchar(255)",
    "created": "timestamptz",
    "updated": "timestamptz",
}


def etl_rows(edition: int) -> list[dict]:
    """What a nightly Jira job sends: 10,000 issues (``edition`` changes every summary)."""
    rng = random.Random(11)
    people = [f"person{n}@example.test" for n in range(60)]
    rows = []
    for n in range(ROWS):
        day = 1 + n % 28
        rows.append(
            {
                "key": f"ETL-{n}",
                "summary": f"Issue {n}: {rng.choice(('Fix', 'Add', 'Remove'))} the thing "
                f"(edition {edition})",
                "description": f"Steps to reproduce issue {n}. " * 4,
                "priority": rng.choice(PRIORITIES),
                "status_name": rng.choice(STATUSES),
                "issuetype_name": rng.choice(TYPES),
                "assignee": rng.choice(people),
                "reporter": rng.choice(people),
                "story_points": float(rng.choice((1, 2, 3, 5, 8))),
                "labels": rng.sample(("backend", "frontend", "ops", "data", "ml"), 2),
                "team": rng.choice(("platform", "growth", "data")),
                "created": f"2026-01-{day:02d}T09:00:00Z",
                "updated": f"2026-02-{day:02d}T10:{edition:02d}:00Z",
            }
        )
    return rows


def _writer() -> tuple[int, str]:
    """A client of its own for the writes, and a token of a writing member of it."""
    from core.models import Client

    client, _ = Client.objects.get_or_create(name="Bench bulk writer")
    user, _ = User.objects.get_or_create(
        email="bench-writer@bench.test", defaults={"client": client, "role": "user"}
    )
    return client.pk, ApiToken.issue(user=user, name="bench")[1]


def _clear(client_id: int) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("DELETE FROM issues WHERE client_id = %s", [client_id])


def _post(port: int, path: str, body: bytes, token: str) -> dict:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                **PROXY_HEADERS,
            },
        )
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"POST {path} answered {response.status}: {answer[:300]!r}")
    return orjson.loads(answer)


def _ours(port: int, token: str, rows: list[dict], expect: str) -> float:
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        body = orjson.dumps({"rows": rows[start : start + BATCH]})
        answer = _post(port, "/api/issues/bulk", body, token)
        if answer[expect] != min(BATCH, len(rows) - start):
            raise RuntimeError(f"bulk answered {answer['results'][:2]} (expected {expect})")
    return time.perf_counter() - started


def _floor_sql() -> str:
    names = ", ".join(FLOOR_COLUMNS)
    types = ", ".join(f"{name} {kind}" for name, kind in FLOOR_COLUMNS.items())
    changed = ", ".join(f"{name} = EXCLUDED.{name}" for name in FLOOR_COLUMNS if name != "key")
    ours = ", ".join(f"t.{name}" for name in FLOOR_COLUMNS if name != "key")
    theirs = ", ".join(f"EXCLUDED.{name}" for name in FLOOR_COLUMNS if name != "key")
    return (
        f"INSERT INTO issues AS t (client_id, {names}) "
        f"SELECT %s, {names} FROM jsonb_to_recordset(%s::jsonb) AS v({types}) "
        f"ON CONFLICT (client_id, key) WHERE active DO UPDATE SET {changed} "
        f"WHERE ({ours}) IS DISTINCT FROM ({theirs}) RETURNING id"
    )


def _floor(connection, client_id: int, rows: list[dict]) -> float:
    sql = _floor_sql()
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with connection.transaction(), connection.cursor() as cursor:
            cursor.execute(sql, [client_id, orjson.dumps(rows[start : start + BATCH]).decode()])
            if len(cursor.fetchall()) != min(BATCH, len(rows) - start):
                raise RuntimeError("the floor wrote fewer rows than it was given")
    return time.perf_counter() - started


def bulk_upsert(ctx: Context) -> list[Row]:
    """(h) 10,000 new issues, then the same 10,000 changed: ours over HTTP against the floor."""
    client_id, token = _writer()
    new, changed = etl_rows(0), etl_rows(1)
    runs = {"ours new": [], "ours changed": [], "floor new": [], "floor changed": []}
    step(f"(h) bulk upsert of {ROWS:,} issues in requests of {BATCH:,}, {ROUNDS} rounds")
    with gunicorn(ctx.settings.port), psycopg.connect(**connection_params("default")) as connection:
        for round_ in range(ROUNDS + 1):
            for variant in ("ours", "floor") if round_ % 2 == 0 else ("floor", "ours"):
                _clear(client_id)
                if variant == "ours":
                    first = _ours(ctx.settings.port, token, new, "created")
                    second = _ours(ctx.settings.port, token, changed, "updated")
                else:
                    first = _floor(connection, client_id, new)
                    second = _floor(connection, client_id, changed)
                if round_:  # the first round warms the server, the caches and the tables
                    runs[f"{variant} new"].append(first)
                    runs[f"{variant} changed"].append(second)
    _clear(client_id)
    rows = []
    for kind in ("new", "changed"):
        ours, floor = median(runs[f"ours {kind}"]), median(runs[f"floor {kind}"])
        rows.append(
            _ratio_row(
                f"(h) bulk upsert, {ROWS:,} {kind} issues: ours / raw floor",
                ours / floor,
                BULK_TARGET,
                at_most=True,
                detail=f"ours {ours * 1000:.0f} ms ({ROWS / ours:,.0f} rows/s) over HTTP, "
                f"floor {floor * 1000:.0f} ms ({ROWS / floor:,.0f} rows/s)",
            )
        )
    return rows


def _sync_pass(port: int, token: str) -> tuple[float, int]:
    started, served, cursor = time.perf_counter(), 0, ""
    while True:
        query = {"sync": cursor, "limit": 1000, "include_deleted": "true"}
        answer = http_get(port, "/api/issues", query, token)
        page = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
        served += page["count"]
        cursor = page["next_sync"]
        if not page["more"]:
            return time.perf_counter() - started, served


def _sync_floor(client_id: int) -> tuple[float, int]:
    plan = row_plan(IssueSerializer, False)
    columns = ", ".join(f'"{column}"' for column in plan.columns)
    started = time.perf_counter()
    with (
        psycopg.connect(**replica_params()) as connection,
        connection.cursor(binary=True) as cursor,
    ):
        cursor.execute(
            f"SELECT {columns} FROM issues WHERE client_id = %s ORDER BY change_xid, id",
            [client_id],
        )
        rows = [dict(zip(plan.names, row, strict=True)) for row in cursor.fetchall()]
        orjson.dumps({"issues": rows}, option=orjson.OPT_NAIVE_UTC)
    return time.perf_counter() - started, len(rows)


def sync_pass(ctx: Context) -> list[Row]:
    """(i) every issue of the big client by sync pages over HTTP, against one raw query."""
    client_id, token = ctx.clients["big"], ctx.tokens["big"]
    step("(i) incremental-sync pass over the big client's issues")
    ours, floor = [], []
    with gunicorn(ctx.settings.port):
        for round_ in range(ROUNDS + 1):
            seconds, served = _sync_pass(ctx.settings.port, token)
            floor_seconds, selected = _sync_floor(client_id)
            if served != selected:
                raise RuntimeError(f"sync served {served} rows, the table holds {selected}")
            if round_:
                ours.append(seconds)
                floor.append(floor_seconds)
    ours_s, floor_s = median(ours), median(floor)
    return [
        Row(
            f"(i) sync pass, {served:,} issues in pages of 1,000: ours / one raw query",
            f"{ours_s / floor_s:.2f}x",
            detail=f"ours {ours_s * 1000:.0f} ms ({served / ours_s:,.0f} rows/s) over HTTP, "
            f"floor {floor_s * 1000:.0f} ms",
        )
    ]
