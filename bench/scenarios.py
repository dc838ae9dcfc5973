"""The measurements (a-g of the performance issue), each returning rows for the report.

Every comparison runs its two variants interleaved (A B A B ...) in one run and reports the ratio
of medians; a third variant never runs between them, so its cache footprint (the plain DRF
baseline's is large) does not weigh on a comparison it is not part of. The first rounds warm
caches and connections and are not counted.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import psycopg
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.urls import Resolver404, resolve
from pgvector.psycopg import register_vector

from bench.floor import IssueFloor, connection_params
from bench.guarded import GuardedFloor
from bench.loadgen import LoadResult, http_get, run_load
from bench.progress import step
from bench.server import gunicorn
from bench.sizes import Settings
from bench.timing import interleaved, median, wsgi_get
from config import startup
from core import handlers
from core.api.cursors import Cursor, cursor_encode, json_value, query_fingerprint
from core.db import state
from core.registry import vector_tables
from core.testing import wait_for_standby
from core.topology.processes import free_ports
from core.topology.redis import Redis
from health.embedding_counts import count_embeddings
from users.models import ApiToken, User

ISSUES = "/api/issues"
BASELINE = "/bench/baseline/issues"
FLOOR = "/bench/floor/issues"
GUARDED = "/bench/guarded/issues"
GUARANTEES = "guarantees alone"


@dataclass
class Row:
    """One line of the results table (``series``, ``profile``: what a chart or a section of the
    report shows)."""

    measure: str
    figure: str
    target: str = ""
    met: bool | None = None
    detail: str = ""
    series: dict[str, dict[int, float]] | None = None
    profile: dict[str, float] | None = None


@dataclass
class Context:
    """What the measurements share: the application, the floor (and with the guarantees), a
    token per client size."""

    settings: Settings
    application: WSGIHandler
    floor: IssueFloor
    guarded: GuardedFloor
    clients: dict[str, int]
    tokens: dict[str, str]

    def get(self, path: str, query: dict, size: str = "big", headers: dict | None = None) -> bytes:
        status, body = wsgi_get(self.application, path, query, self.tokens[size], headers)
        if status != 200:
            raise RuntimeError(f"GET {path} {query} answered {status}: {body[:300]!r}")
        return body

    def times(
        self, variants: dict, repeats: int | None = None, warmup: int | None = None
    ) -> dict[str, float]:
        runs = interleaved(
            variants,
            repeats=repeats or self.settings.repeats,
            warmup=warmup or self.settings.warmup,
        )
        return {name: median(values) for name, values in runs.items()}

    def list_times(self, variants: dict) -> dict[str, float]:
        """``times()`` for the list measures: a few milliseconds each, so more runs, and a
        longer warm-up (the interpreter specialises code over its first executions)."""
        return self.times(
            variants,
            repeats=self.settings.repeats * LIST_REPEATS_FACTOR,
            warmup=max(self.settings.warmup, LIST_WARMUP_ROUNDS),
        )


def prepare(settings_: Settings) -> Context:
    """A viewer (and a token) for the big, the 1/20 and the 1/200 client; the standby caught up."""
    from core.models import Client

    names = {"big": 0, "tenth": 1, "hundredth": 2}
    clients, tokens = {}, {}
    for size, number in names.items():
        client = Client.objects.get(name=f"Bench client {number}")
        user, _ = User.objects.get_or_create(
            email=f"bench-{number}@bench.test", defaults={"client": client, "role": "viewer"}
        )
        clients[size] = client.pk
        tokens[size] = ApiToken.issue(user=user, name="bench")[1]
    for alias in settings.REPLICA_ALIASES:
        wait_for_standby(alias, timeout=600)
    state.reset()
    # The application as a gunicorn worker has it (config.wsgi, gunicorn.conf.py): its middleware
    # chains, the garbage collector tuned.
    application = startup.application(handlers.get_wsgi_application)
    startup.tune_collector()
    return Context(settings_, application, IssueFloor(), GuardedFloor(), clients, tokens)


# The list measures take a few milliseconds and their ratios sit near targets: more runs.
LIST_REPEATS_FACTOR = 5
# Unmeasured rounds before the list measures (over HTTP: once the fresh server answers).
LIST_WARMUP_ROUNDS = 100


def _ratio_row(measure: str, ratio: float, target: float, *, at_most: bool, detail: str) -> Row:
    sign = "<=" if at_most else ">="
    met = ratio <= target if at_most else ratio >= target
    return Row(measure, f"{ratio:.2f}x", f"{sign} {target:g}x", met, detail)


def list_page(ctx: Context) -> list[Row]:
    """(a) and (b): the first page of the big client against plain DRF and the floor."""
    step("measuring: list page in-process")
    big = ctx.clients["big"]
    ours = ctx.get(ISSUES, {"limit": 100})
    floor = ctx.floor.page(big, 100)
    if orjson.loads(ours) != orjson.loads(floor):
        raise RuntimeError("the floor's body differs from the endpoint's")
    identical = "byte-identical" if ours == floor else "same JSON"
    t = ctx.list_times(
        {
            "ours": lambda: ctx.get(ISSUES, {"limit": 100}),
            "floor": lambda: ctx.floor.page(big, 100),
        }
    )
    rows = [
        _ratio_row(
            "(a) list, in-process: ours / floor",
            t["ours"] / t["floor"],
            1.25,
            at_most=True,
            detail=f"ours {t['ours']:.2f} ms, floor {t['floor']:.2f} ms ({identical} body)",
        )
    ]
    rows.append(_guarantees_alone(ctx, ours))
    step("measuring: list page with ML fields in-process")
    ml = {"limit": 100, "include_ml_fields": "true"}
    ours_ml = ctx.get(ISSUES, ml)
    floor_ml = ctx.floor.page(big, 100, ml=True)
    if ours_ml != floor_ml:
        raise RuntimeError("the floor's ML body differs from the endpoint's")
    t = ctx.list_times(
        {
            "ours": lambda: ctx.get(ISSUES, ml),
            "floor": lambda: ctx.floor.page(big, 100, ml=True),
        }
    )
    vectors = sum(item["embedding"] is not None for item in orjson.loads(ours_ml)["issues"])
    rows.append(
        _ratio_row(
            "(b) list + ML fields, in-process: ours / floor",
            t["ours"] / t["floor"],
            2,
            at_most=True,
            detail=f"ours {t['ours']:.2f} ms, floor {t['floor']:.2f} ms; payload "
            f"{len(ours_ml) / 1e6:.2f} MB ({vectors} of 100 rows with a vector), "
            f"{len(ours) / 1e3:.0f} kB without",
        )
    )
    step("measuring: list page with sparse fields in-process")
    sparse = {"limit": 100, "fields": "id,key,status_name"}
    t = ctx.list_times(
        {"full": lambda: ctx.get(ISSUES, {"limit": 100}), "sparse": lambda: ctx.get(ISSUES, sparse)}
    )
    rows.append(
        Row(
            "(a) first page, in-process: ?fields=id,key,status_name / all fields",
            f"{t['sparse'] / t['full']:.2f}x",
            detail=f"sparse {t['sparse']:.2f} ms ({len(ctx.get(ISSUES, sparse)) / 1e3:.0f} kB), "
            f"all fields {t['full']:.2f} ms ({len(ours) / 1e3:.0f} kB)",
        )
    )
    step("measuring: compression in-process")
    gz = {"HTTP_ACCEPT_ENCODING": "gzip"}
    t = ctx.list_times(
        {
            "plain": lambda: ctx.get(ISSUES, {"limit": 100}),
            "gzip": lambda: ctx.get(ISSUES, {"limit": 100}, headers=gz),
        }
    )
    packed = ctx.get(ISSUES, {"limit": 100}, headers=gz)
    rows.append(
        _ratio_row(
            "(a) list of 100, in-process: gzip / plain time",
            t["gzip"] / t["plain"],
            1.1,
            at_most=True,
            detail=f"gzip {t['gzip']:.2f} ms ({len(packed) / 1e3:.0f} kB), plain "
            f"{t['plain']:.2f} ms ({len(ours) / 1e3:.0f} kB)",
        )
    )
    whole, whole_packed = (
        ctx.get(ISSUES, {"limit": 1000}),
        ctx.get(ISSUES, {"limit": 1000}, headers=gz),
    )
    rows.append(
        _ratio_row(
            "(a) page of 1,000: plain / gzip size",
            len(whole) / len(whole_packed),
            4,
            at_most=False,
            detail=f"{len(whole) / 1e3:.0f} kB plain, {len(whole_packed) / 1e3:.0f} kB gzip "
            "(ISA-L, level 1)",
        )
    )
    # Last: the baseline's heavy requests leave the process in a state the others should not
    # be measured in.
    step("measuring: list page against plain DRF in-process")
    t = ctx.list_times(
        {
            "ours": lambda: ctx.get(ISSUES, {"limit": 100}),
            "drf": lambda: ctx.get(BASELINE, {"limit": 100}),
        }
    )
    rows.append(
        _ratio_row(
            "(a) list, in-process: plain DRF / ours",
            t["drf"] / t["ours"],
            3,
            at_most=False,
            detail=f"ours {t['ours']:.2f} ms, plain DRF {t['drf']:.2f} ms",
        )
    )
    return rows


@contextlib.contextmanager
def _timed(spent: dict[str, float], phases: dict[str, tuple[type, str]]) -> Iterator[None]:
    """Add the time spent in each ``(class, method)`` to ``spent``, then restore the methods."""
    originals = {label: getattr(owner, name) for label, (owner, name) in phases.items()}

    def timed(label, method):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        return run

    for label, (owner, name) in phases.items():
        setattr(owner, name, timed(label, originals[label]))
    try:
        yield
    finally:
        for label, (owner, name) in phases.items():
            setattr(owner, name, originals[label])


def request_profile(ctx: Context) -> list[Row]:
    """Where the time of one list request goes, against the floor's page and count."""
    from core.api.renderers import OrjsonRenderer
    from core.api.rows import RowPlan
    from core.api.viewsets import TenantReadOnlyViewSet
    from users.authentication import ApiTokenAuthentication

    step("measuring: where a list request's time goes")
    phases = {
        "authentication (a remembered token)": (ApiTokenAuthentication, "authenticate"),
        "routing, page query with its total_count, rows": (RowPlan, "fetch"),
        "a separate count": (TenantReadOnlyViewSet, "count_rows"),
        "rendering": (OrjsonRenderer, "render"),
    }
    spent = dict.fromkeys(phases, 0.0)
    runs = ctx.settings.repeats * 4
    for _ in range(ctx.settings.warmup):
        ctx.get(ISSUES, {"limit": 100})
    with _timed(spent, phases):
        started = time.perf_counter()
        for _ in range(runs):
            ctx.get(ISSUES, {"limit": 100})
        total = (time.perf_counter() - started) * 1000 / runs
    parts = {label: seconds * 1000 / runs for label, seconds in spent.items()}
    parts["Django, DRF, middleware, validation (the rest)"] = total - sum(parts.values())
    floor = ctx.times({"floor": lambda: ctx.floor.page(ctx.clients["big"], 100)})["floor"]
    detail = "; ".join(f"{label} {ms:.2f} ms ({ms / total:.0%})" for label, ms in parts.items())
    return [
        Row(
            "(a) profile of one list request (mean)",
            f"{total:.2f} ms",
            detail=f"{detail}; the floor fetches and renders the page (with its count) in {floor:.2f} ms",
        )
    ]


@contextlib.contextmanager
def _warm_server(
    ctx: Context, variants: dict[str, tuple[str, dict, str | None]], **environment: str
) -> Iterator[list[int]]:
    """A fresh gunicorn warmed with just these variants (path, query, token of each); the block
    gets its workers' pids.

    Fresh workers serve their first requests cold (imports, connections, the interpreter's
    specialisation), and whatever else a worker served before (the plain-DRF baseline's heavy
    requests) would weigh on a comparison it is not part of.
    """
    port = ctx.settings.port
    with gunicorn(port, **environment) as workers:
        for _ in range(LIST_WARMUP_ROUNDS):
            for path, query, token in variants.values():
                http_get(port, path, query, token)
        yield workers


def _guarantees_alone(ctx: Context, ours: bytes) -> Row:
    """(a) the floor with the guarantees' own calls and no framework (``bench.guarded``): how
    close to the floor a list served outside Django and DRF could come."""
    step("measuring: the floor with the guarantees alone, in-process")
    big, authorization = ctx.clients["big"], f"Bearer {ctx.tokens['big']}"
    if ctx.guarded.page(authorization)[0] != ours:
        raise RuntimeError("the guarded floor's body differs from the endpoint's")
    t = ctx.list_times(
        {
            "guarded": lambda: ctx.guarded.page(authorization),
            "floor": lambda: ctx.floor.page(big, 100),
        }
    )
    return Row(
        "(a) list, in-process: the guarantees alone / floor",
        f"{t['guarded'] / t['floor']:.2f}x",
        detail=f"guarantees alone {t['guarded']:.2f} ms, floor {t['floor']:.2f} ms: no "
        "framework, the project's token, pin, rate-limit, routed page, ETag, metrics and log "
        "calls (bench/guarded.py); a lower bound for a list served outside Django and DRF",
    )


def first_page_growth(ctx: Context) -> list[Row]:
    """(c) the first page (with its exact total_count) as the client grows."""
    step("measuring: first page against client size")
    sizes = {
        name: orjson.loads(ctx.get(ISSUES, {"limit": 100}, name))["total_count"]
        for name in ("hundredth", "tenth", "big")
    }
    t = ctx.times({name: (lambda n=name: ctx.get(ISSUES, {"limit": 100}, n)) for name in sizes})
    detail = ", ".join(f"{sizes[name]:,} rows {t[name]:.2f} ms" for name in sizes)
    return [
        _ratio_row(
            f"(c) first page, {sizes['big'] // max(sizes['hundredth'], 1)}x the rows",
            t["big"] / t["hundredth"],
            3,
            at_most=True,
            detail=detail,
        ),
        Row(
            f"(c) first page, {sizes['big'] // max(sizes['tenth'], 1)}x the rows",
            f"{t['big'] / t['tenth']:.2f}x",
            detail=detail,
        ),
    ]


def _cursor_at(ctx: Context, position: int) -> str:
    """The token a client holds after reading ``position`` rows of the big client's list."""
    from issues.models import Issue

    last = (
        Issue.objects.filter(client_id=ctx.clients["big"], active=True)
        .order_by("-created_at", "-id")
        .values_list("created_at", "id")[position - 1]
    )
    from django.http import QueryDict

    fingerprint = query_fingerprint(
        QueryDict("limit=100&cursor="), listing=f"issues:{ctx.clients['big']}"
    )
    return cursor_encode(
        Cursor(("-created_at", "-id"), tuple(json_value(v) for v in last), position, fingerprint)
    )


def deep_pages(ctx: Context) -> list[Row]:
    """(d) a page at 90% depth by cursor, against the first page; offset for contrast."""
    step("measuring: deep pages")
    total = orjson.loads(ctx.get(ISSUES, {"limit": 100}))["total_count"]
    depth = int(total * 0.9)
    token = _cursor_at(ctx, depth)
    deep = orjson.loads(ctx.get(ISSUES, {"limit": 100, "cursor": token}))
    by_offset = orjson.loads(ctx.get(ISSUES, {"limit": 100, "offset": depth}))
    if deep["issues"] != by_offset["issues"] or deep["offset"] != depth:
        raise RuntimeError("the cursor page differs from the offset page at the same depth")
    t = ctx.times(
        {
            "first": lambda: ctx.get(ISSUES, {"limit": 100, "cursor": ""}),
            "cursor": lambda: ctx.get(ISSUES, {"limit": 100, "cursor": token}),
            "offset": lambda: ctx.get(ISSUES, {"limit": 100, "offset": depth}),
        }
    )
    return [
        _ratio_row(
            "(d) page at 90% depth by cursor / first page",
            t["cursor"] / t["first"],
            1.5,
            at_most=True,
            detail=f"first {t['first']:.2f} ms, cursor at row {depth:,} {t['cursor']:.2f} ms",
        ),
        Row(
            "(d) page at 90% depth by offset / first page",
            f"{t['offset'] / t['first']:.2f}x",
            detail=f"offset {depth:,}: {t['offset']:.2f} ms (for contrast)",
        ),
    ]


SIMILAR_SQL = (
    "SELECT id FROM pull_requests WHERE client_id = %s AND active AND embedding IS NOT NULL "
    "AND id <> %s ORDER BY embedding <=> %s LIMIT 10"
)
EF_SEARCH_CANDIDATES = (20, 40, 64, 100, 200, 400)


def _search(cursor, client_id: int, row_id: int, vector, *, ef: int | None) -> list[int]:
    cursor.execute("BEGIN")
    if ef is None:
        cursor.execute("SET LOCAL enable_indexscan = off")
    else:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [ef])
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute("SET LOCAL hnsw.max_scan_tuples = %s", [settings.VECTOR_MAX_SCAN_TUPLES])
    cursor.execute(SIMILAR_SQL, [client_id, row_id, vector])
    ids = [row[0] for row in cursor.fetchall()]
    cursor.execute("COMMIT")
    return ids


# Rounds of the end-to-end comparison (its ratio moves by 0.1 from run to run with 10).
SIMILAR_ROUNDS = 40


def similarity(ctx: Context, queries: int = 20) -> list[Row]:
    """(e) HNSW against an exact scan: latency and recall@10, over a sweep of ef_search."""
    from pullrequests.models import PullRequest

    step("measuring: similarity search (exact scans take a while)")
    big = ctx.clients["big"]
    total_vectors = PullRequest.objects.filter(embedding__isnull=False).count()
    client_vectors = PullRequest.objects.filter(
        client_id=big, active=True, embedding__isnull=False
    ).count()
    rng = np.random.default_rng(ctx.settings.sizes.seed)
    candidates = list(
        PullRequest.objects.filter(client_id=big, active=True, embedding__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    picks = [int(i) for i in rng.choice(candidates, min(queries, len(candidates)), replace=False)]
    vectors = dict(PullRequest.objects.filter(id__in=picks).values_list("id", "embedding"))
    connection = connections["ml"]
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        exact: dict[int, list[int]] = {}
        exact_ms = []
        for row_id in picks:
            started = time.perf_counter()
            exact[row_id] = _search(cursor, big, row_id, vectors[row_id], ef=None)
            exact_ms.append((time.perf_counter() - started) * 1000)
        sweep = {}
        for ef in EF_SEARCH_CANDIDATES:
            recalls, latencies = [], []
            for repeat in range(3):
                for row_id in picks:
                    started = time.perf_counter()
                    got = _search(cursor, big, row_id, vectors[row_id], ef=ef)
                    if repeat:  # the first pass warms the index pages
                        latencies.append((time.perf_counter() - started) * 1000)
                    recalls.append(len(set(got) & set(exact[row_id])) / 10)
            sweep[ef] = (float(np.mean(recalls)), median(latencies))
    configured = settings.VECTOR_EF_SEARCH
    if configured not in sweep:
        raise RuntimeError(f"VECTOR_EF_SEARCH={configured} is not in the sweep")
    recall, hnsw_ms = sweep[configured]
    exact_median = median(exact_ms)
    # The endpoint against its own index query, for the same rows, interleaved: each variant runs
    # the searches of five rows.
    endpoint_picks = picks[:5]
    # A connection of its own (the endpoint's requests use the ML alias's).
    with psycopg.connect(
        **connection_params("ml"), autocommit=True, cursor_factory=psycopg.ClientCursor
    ) as raw:
        register_vector(raw)
        cursor = raw.cursor()
        paired = ctx.times(
            {
                "endpoint": lambda: [
                    ctx.get(f"/api/pull-requests/{r}/similar", {"limit": 10})
                    for r in endpoint_picks
                ],
                "index": lambda: [
                    _search(cursor, big, r, vectors[r], ef=configured) for r in endpoint_picks
                ],
            },
            repeats=SIMILAR_ROUNDS,
        )
    end_to_end = paired["endpoint"] / len(endpoint_picks)
    index_ms = paired["index"] / len(endpoint_picks)
    smallest = min((ef for ef, (r, _) in sweep.items() if r >= 0.95), default=None)
    ratio = exact_median / hnsw_ms
    sweep_text = "; ".join(f"ef {ef}: recall {r:.3f}, {ms:.1f} ms" for ef, (r, ms) in sweep.items())
    return [
        Row(
            f"(e) /similar, HNSW (ef_search {configured}) vs exact, {total_vectors:,} vectors",
            f"{ratio:.1f}x faster, recall@10 {recall:.3f}",
            ">= 10x at recall >= 0.95",
            ratio >= 10 and recall >= 0.95,
            f"exact {exact_median:.1f} ms over the client's {client_vectors:,} vectors, HNSW "
            f"{hnsw_ms:.2f} ms; endpoint end to end {end_to_end:.2f} ms; "
            f"sweep: {sweep_text}; smallest ef_search with recall >= 0.95: {smallest}",
        ),
        _ratio_row(
            "(e) /similar end to end / its index query",
            end_to_end / index_ms,
            1.2,
            at_most=True,
            detail=f"GET /api/pull-requests/<id>/similar?limit=10 in-process {end_to_end:.2f} ms; "
            f"the same HNSW query alone (ef_search {configured}, the vector sent as a parameter) "
            f"{index_ms:.2f} ms; medians of {SIMILAR_ROUNDS} interleaved rounds over the same 5 rows",
        ),
    ]


@dataclass
class Series:
    """Requests per second of each round, by variant and concurrency, with the rounds' wrk runs."""

    runs: dict[str, dict[int, list[LoadResult]]] = field(default_factory=dict)

    def add(self, variant: str, concurrency: int, result: LoadResult) -> None:
        self.runs.setdefault(variant, {}).setdefault(concurrency, []).append(result)

    def rates(self, variant: str, concurrency: int) -> list[float]:
        return [run.requests_per_second for run in self.runs[variant][concurrency]]

    def median(self, variant: str, concurrency: int) -> float:
        return median(self.rates(variant, concurrency))

    def describe(self, variant: str, concurrency: int) -> str:
        runs = self.runs[variant][concurrency]
        rates = self.rates(variant, concurrency)
        p50 = median([run.p50_ms for run in runs])
        p99 = median([run.p99_ms for run in runs])
        errors = sum(run.errors for run in runs)
        return (
            f"{variant} {median(rates):.0f} req/s ({min(rates):.0f}-{max(rates):.0f} over "
            f"{len(rates)} rounds; p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            + (f"; {errors} FAILED requests" if errors else "")
            + ")"
        )

    def errors(self) -> int:
        return sum(
            run.errors for levels in self.runs.values() for rs in levels.values() for run in rs
        )


def _log_lines(path: Path, offset: int, request_path: str) -> int:
    """Lines of the request log written past ``offset`` for ``request_path``."""
    needle = f'"path": "{request_path}"'.encode()
    with path.open("rb") as log:
        log.seek(offset)
        return sum(needle in line for line in log)


def _rounds(
    ctx: Context, port: int, variants: dict[str, tuple[str, dict, str | None]], series: Series
) -> None:
    """Every concurrency level, in rounds; each round runs the variants in a rotated order."""
    seconds = ctx.settings.load_seconds
    names = list(variants)
    for concurrency in ctx.settings.concurrency:
        for number in range(ctx.settings.rounds):
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                path, query, token = variants[name]
                series.add(
                    name, concurrency, run_load(port, path, query, token, seconds, concurrency)
                )


def throughput(ctx: Context) -> list[Row]:
    """(f) requests/s of the list of 100 under concurrency, over HTTP, against the floor and
    plain DRF on the same server; the default shared cache, then Redis; a profile under load."""
    from bench import profile

    step("measuring: throughput under concurrency")
    port, token, big = ctx.settings.port, ctx.tokens["big"], ctx.clients["big"]
    page = {"limit": 100}
    variants = {
        "ours": (ISSUES, page, token),
        "floor": (FLOOR, {"client_id": big, **page}, None),
        "plain DRF": (BASELINE, page, token),
        GUARANTEES: (GUARDED, page, token),
    }
    log = Path(os.environ["BENCH_LOG"])
    log.touch()
    series = Series()
    with _warm_server(ctx, variants) as workers:
        # After the warm-up: its lines are not among the requests counted.
        offset = log.stat().st_size
        _rounds(ctx, port, variants, series)
        step("measuring: a profile under load (py-spy, concurrency 8)")
        seconds = max(4, round(ctx.settings.load_seconds * 2))
        sampled, during = profile.record(
            workers, seconds, lambda: run_load(port, ISSUES, page, token, seconds, 8)
        )
    logged = _log_lines(log, offset, ISSUES)
    served = sum(run.requests for runs in series.runs["ours"].values() for run in runs)
    served += during.requests
    step("measuring: throughput under concurrency, Redis as the shared cache")
    redis = Redis(Path(settings.EMBEDDED_DB_DIR) / "bench-redis", free_ports(1)[0])
    redis.start()
    try:
        redis_variants = {"ours, Redis": variants["ours"], "floor, Redis": variants["floor"]}
        with _warm_server(ctx, redis_variants, CACHE_URL=redis.url):
            _rounds(ctx, port, redis_variants, series)
    finally:
        redis.stop()
    return _throughput_rows(ctx, series, sampled, during, logged, served)


def _throughput_rows(ctx, series: Series, sampled, during, logged: int, served: int) -> list[Row]:
    workers = settings.GUNICORN_WORKERS
    where = f"gunicorn {workers} workers, production settings, request log on"
    rows = []
    targets = {1: 1.3, 8: 1.5}
    for concurrency in ctx.settings.concurrency:
        ratio = series.median("floor", concurrency) / series.median("ours", concurrency)
        detail = "; ".join(
            series.describe(v, concurrency) for v in ("ours", "floor", "plain DRF", GUARANTEES)
        )
        measure = f"(f) list of 100, HTTP, concurrency {concurrency}: floor / ours req/s"
        if concurrency in targets:
            rows.append(
                _ratio_row(measure, ratio, targets[concurrency], at_most=True, detail=detail)
            )
        else:
            rows.append(Row(measure, f"{ratio:.2f}x", detail=detail))
    rows.append(
        _ratio_row(
            "(f) list of 100, HTTP, concurrency 8: ours / plain DRF req/s",
            series.median("ours", 8) / series.median("plain DRF", 8),
            5,
            at_most=False,
            detail=f"{where}; file cache (the default); "
            + "; ".join(series.describe(v, 8) for v in ("ours", "plain DRF")),
        )
    )
    for concurrency in ctx.settings.concurrency:
        ours, floor = (
            series.median("ours, Redis", concurrency),
            series.median("floor, Redis", concurrency),
        )
        rows.append(
            Row(
                f"(f) list of 100, HTTP, concurrency {concurrency}, Redis cache: floor / ours req/s",
                f"{floor / ours:.2f}x",
                detail=f"ours with Redis / with the file cache: "
                f"{ours / series.median('ours', concurrency):.2f}x; "
                + "; ".join(
                    series.describe(v, concurrency) for v in ("ours, Redis", "floor, Redis")
                ),
            )
        )
    for concurrency in ctx.settings.concurrency:
        guarded = series.median(GUARANTEES, concurrency)
        rows.append(
            Row(
                f"(f) list of 100, HTTP, concurrency {concurrency}: floor / guarantees alone req/s",
                f"{series.median('floor', concurrency) / guarded:.2f}x",
                detail=f"the floor with the guarantees' own calls, no framework "
                f"(bench/guarded.py); guarantees alone / ours "
                f"{guarded / series.median('ours', concurrency):.2f}x",
            )
        )
    parts = "; ".join(
        f"{name} {ms:.2f} ms ({ms / sampled.total_ms:.0%})"
        for name, ms in sampled.per_request_ms.items()
    )
    rows.append(
        Row(
            "(f) profile of one list request under load (concurrency 8, CPU per request)",
            f"{sampled.total_ms:.2f} ms",
            detail=f"{parts}; py-spy, {sampled.samples:,} samples over {during.requests:,} requests "
            f"({during.requests_per_second:.0f} req/s while sampled)",
            profile=sampled.per_request_ms,
        )
    )
    complete = logged >= served
    rows.append(
        Row(
            "(f) request log under load: lines / requests served",
            f"{logged:,} / {served:,}",
            "every request logged",
            complete,
            f"JSON lines in {os.environ['BENCH_LOG']}",
        )
    )
    if series.errors():
        for row in rows[: len(ctx.settings.concurrency) + 1]:
            row.met = False
            row.detail += "; INVALID: some requests failed"
    rows[0].series = {
        variant: {level: series.median(variant, level) for level in levels}
        for variant, levels in series.runs.items()
    }
    return rows


def health(ctx: Context) -> list[Row]:
    """(g) the database health probe, or the embedding counts it would run."""
    step("measuring: health queries")
    rows = []
    try:
        resolve("/health/database")
        t = ctx.times({"health": lambda: wsgi_get(ctx.application, "/health/database")}, repeats=10)
        rows.append(Row("(g) GET /health/database", f"{t['health']:.2f} ms"))
    except Resolver404:
        rows.append(
            Row(
                "(g) GET /health/database",
                "not in this branch",
                detail="measured below: the embedding counts it would report",
            )
        )
    from django.apps import apps

    models = [m for m in apps.get_models() if any(f.name == "embedding" for f in m._meta.fields)]

    def exact() -> dict:
        return {m._meta.db_table: m.objects.filter(embedding__isnull=False).count() for m in models}

    def probe() -> dict:
        return count_embeddings("default", vector_tables()).counts

    counts = exact()
    estimated = probe()
    t = ctx.times({"exact": exact, "estimate": probe}, repeats=5)
    rows.append(
        Row(
            "(g) embedding counts: exact COUNT(*) vs index statistics",
            f"{t['exact']:.1f} ms vs {t['estimate']:.2f} ms",
            "no scan",
            True,
            f"exact {counts}; estimated {estimated} (health.embedding_counts: exact below 64 MB, else planner statistics)",
        )
    )
    return rows
