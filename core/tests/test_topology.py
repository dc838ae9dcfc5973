"""Drills over the production topology (``core.topology``), as an operator would deploy it.

Two service instances (gunicorn, production settings) reach a primary and two streaming standbys
only through PgBouncer in transaction mode, with Redis as the shared cache. Client threads send a
mix of reads and writes over HTTP to both instances while a server is frozen, blocked, stopped or
paused. The figures each drill prints are the ones docs/reliability.md quotes.
"""

from __future__ import annotations

import itertools
import json
import signal
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings

from core.drills import BEHIND_TLS, Load, Outcome, call
from core.embedded.binaries import ServerSetupError
from core.topology import READ_TIMEOUT, Topology, pgbouncer, redis
from core.topology.postgres import ML_ROLE

pytestmark = pytest.mark.topology

READ_DEADLINE = READ_TIMEOUT
CACHE_TIMEOUT = 0.25  # CACHE_SOCKET_TIMEOUT (the default)
ALIASES = ["default", "replica_1", "ml_1", "replica_2", "ml_2", "ml_primary"]
# The drills' callers stay far below these; the rate-limit drill sets its own.
GENEROUS_LIMITS = {"API_THROTTLE_USER": "1000000/hour", "API_THROTTLE_ANON": "1000000/hour"}

SEED = """
import json
from core.models import Client
from issues.models import Issue
from users.models import ApiToken, User
client, _ = Client.objects.get_or_create(name="Drills")
tokens = {{}}
for role, count in {roles!r}.items():
    tokens[role] = []
    for number in range(count):
        # An "operator" is a staff admin: it reads health's full report.
        user = User.objects.create_user(
            email=f"{tag}-{{role}}-{{number}}@drills.test",
            client=client,
            role="admin" if role == "operator" else role,
            is_staff=role == "operator",
        )
        tokens[role].append(ApiToken.issue(user=user)[1])
issues = [
    Issue.objects.create(client=client, key=f"{tag}-{{n}}", summary="seeded").pk
    for n in range({issues})
]
print(json.dumps({{"tokens": tokens, "issues": issues}}))
"""


@pytest.fixture(scope="module")
def topology():
    if not (pgbouncer.installed() and redis.installed()):
        pytest.skip("needs Debian's pgbouncer and redis-server: `make test` installs them")
    running = Topology.for_data_dir(settings.EMBEDDED_DB_DIR, service_env=GENEROUS_LIMITS)
    try:
        running.start()
        # A new Redis holds no read-your-writes positions: for its first seconds every
        # identified caller reads from the primary. The first request starts that clock.
        tokens, _ = seed(running, viewer=1, issues=0)
        for base in (service.url for service in running.services):
            call(base, tokens["viewer"][0], "GET", "/api/issues", headers=BEHIND_TLS)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def operator(topology) -> str:
    """A staff user's token: health's full report is for operators."""
    tokens, _ = seed(topology, operator=1, issues=0)
    return tokens["operator"][0]


_tags = itertools.count(1)


def seed(topology: Topology, *, issues: int = 20, **roles: int) -> tuple[dict, list[int]]:
    """Users with tokens (``user=3, viewer=2``...) and issues of the drills' client."""
    code = SEED.format(roles=roles, tag=f"d{next(_tags)}", issues=issues)
    finished = topology.manage("shell", "-c", code)
    if finished.returncode != 0:
        raise ServerSetupError(finished.stderr[-2000:])
    data = json.loads(finished.stdout.strip().splitlines()[-1])
    topology.cluster.wait_streaming()
    return data["tokens"], data["issues"]


class Api:
    """Requests spread over both instances, as a load balancer would send them."""

    def __init__(self, topology: Topology):
        self.bases = [service.url for service in topology.services]
        self._turn = itertools.count()

    def __call__(self, token: str | None, method: str, path: str, body=None) -> Outcome:
        base = self.bases[next(self._turn) % len(self.bases)]
        return call(base, token, method, path, body, headers=BEHIND_TLS)


def log_marks(topology: Topology) -> dict[Path, int]:
    return {service.log_file: service.log_file.stat().st_size for service in topology.services}


def request_lines(marks: dict[Path, int]) -> list[dict]:
    """The request-log lines both instances wrote since ``marks``."""
    lines = []
    for path, offset in marks.items():
        with open(path, "rb") as log:
            log.seek(offset)
            for raw in log.read().splitlines():
                if raw.startswith(b"{") and b'"db_read_aliases"' in raw:
                    lines.append(json.loads(raw))
    return lines


def writes_then_reads(api: Api, writers: list[str], readers: list[str], issues: list[int]):
    """Writers create an issue and read it straight back; readers list and read issues."""
    numbers = itertools.count()

    def work(index: int):
        if index < len(writers):
            key = f"W{index}-{next(numbers)}-{time.monotonic_ns()}"
            created = api(writers[index], "POST", "/api/issues", {"key": key, "summary": "s"})
            created.body = {**(created.body or {}), "sent_key": key}
            yield "write", created
            if created.status == 201:
                yield "own-read", api(writers[index], "GET", f"/api/issues/{created.body['id']}")
        else:
            token = readers[index - len(writers)]
            yield "read", api(token, "GET", "/api/issues?limit=20")
            yield "read", api(token, "GET", f"/api/issues/{issues[index % len(issues)]}")

    return work


def maybe_stored(outcome: Outcome) -> bool:
    return "may or may not" in ((outcome.body or {}).get("detail") or "")


def stored_keys(topology: Topology, keys: list[str]) -> Counter:
    if not keys:
        return Counter()
    listed = ",".join(f"'{key}'" for key in keys)
    found = topology.cluster.psql(
        topology.cluster.primary, f"SELECT key FROM issues WHERE key IN ({listed})"
    )
    return Counter(found.splitlines())


def hold(fault, undo, seconds: float) -> tuple[float, float]:
    """Inject ``fault()``, keep it for ``seconds``, then ``undo()`` it (whatever happens); when
    the fault began and ended, in ``time.monotonic()`` seconds.
    """
    fault()
    began = time.monotonic()
    try:
        time.sleep(seconds)
    finally:
        undo()
    return began, time.monotonic()


def assert_all_answered(load: Load, *, within: float) -> None:
    """No client-side error, no failed request, none slower than ``within`` seconds."""
    assert not load.errors, load.errors
    failed = [(kind, o.status) for kind, o in load.outcomes if o.status not in (200, 201)]
    assert failed == [], Counter(failed)
    assert load.slowest() <= within, load.slowest()


def assert_served_throughout(load: Load, api: Api, start: float, end: float) -> None:
    """Each instance answered requests successfully all through [start, end): no stretch
    without an answer longer than the read deadline and a second (when every worker of an
    instance waits on the failing server at once, it is silent for up to one deadline).
    """
    for base in api.bases:
        answered = sorted(
            o.started + o.seconds
            for _, o in load.outcomes
            if o.base == base and o.status in (200, 201)
        )
        times = [start, *(t for t in answered if start <= t <= end), end]
        gap = max(later - earlier for earlier, later in itertools.pairwise(times))
        assert gap <= READ_DEADLINE + 1, f"{base} answered nothing for {gap:.1f}s"


def report(name: str, load: Load, **figures) -> None:
    statuses = Counter(outcome.status for _, outcome in load.outcomes)
    extra = " ".join(f"{key}={value}" for key, value in figures.items())
    print(
        f"\ntopology drill {name}: {len(load.outcomes)} requests {dict(statuses)}, "
        f"slowest {load.slowest():.2f}s {extra}"
    )


# ---- session settings ------------------------------------------------------------------


SHOW_SETTINGS = """
import json
from django.conf import settings
from django.db import connections
found = {}
for alias, wanted in settings.DATABASE_SESSION_SETTINGS.items():
    with connections[alias].cursor() as cursor:
        found[alias] = {}
        for name in wanted:
            cursor.execute(f"SHOW {name}")
            found[alias][name] = cursor.fetchone()[0]
print(json.dumps(found))
"""


def test_every_alias_has_its_documented_settings_through_pgbouncer(topology, operator):
    shown = topology.manage("shell", "-c", SHOW_SETTINGS)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout.strip().splitlines()[-1])
    assert list(found) == ALIASES
    assert found["default"] == {"statement_timeout": "30s"}
    for alias in ("replica_1", "replica_2"):
        assert found[alias] == {"statement_timeout": "30s", "lock_timeout": "500ms"}
    ml = {
        "statement_timeout": "5min",
        "default_transaction_read_only": "on",
        "work_mem": "256MB",
        "random_page_cost": "1.1",
    }
    assert found["ml_primary"] == ml
    for alias in ("ml_1", "ml_2"):
        assert found[alias] == {**ml, "lock_timeout": "500ms"}

    # The DBA's step is safe to repeat (the ML role's own sessions start read-only once applied).
    again = topology.manage("session_settings", "--apply", env=topology.env(direct=True))
    assert again.returncode == 0, again.stdout + again.stderr
    checked = topology.manage("session_settings")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [line.split()[:2] for line in checked.stdout.splitlines()] == [
        [alias, "ok"] for alias in ALIASES
    ]
    api = Api(topology)
    for base in api.bases:
        health = call(base, operator, "GET", "/health/database", headers=BEHIND_TLS)
        assert health.status == 200
        assert health.body["status"] == "healthy", health.body["reasons"]
        assert health.body["session_settings"]["checked"] == ALIASES
        assert health.body["session_settings"]["differences"] == []


def test_libpq_options_through_a_stock_pgbouncer_are_named_as_the_cause(topology):
    env = topology.env(DATABASE_POOL_MODE="session")
    finished = topology.manage("healthcheck", "--scope", "ready", env=env)
    assert finished.returncode == 1
    assert "DATABASE_POOL_MODE=transaction" in finished.stderr + finished.stdout
    assert "Traceback" not in finished.stderr


# ---- standbys that hang, block, stop or pause -------------------------------------------


def test_a_frozen_standby_costs_one_deadline_and_the_instances_keep_serving(topology):
    tokens, issues = seed(topology, user=3, viewer=3, admin=1)
    api = Api(topology)
    work = writes_then_reads(api, tokens["user"], tokens["viewer"], issues)
    admin = tokens["admin"][0]
    standby = topology.cluster.standbys[0]

    def with_ml(index: int):
        if index == 6:
            # ML work, which any healthy standby can serve.
            yield "ml-read", api(admin, "GET", "/api/ml/anomaly-alerts?limit=5")
        else:
            yield from work(index)

    marks = log_marks(topology)
    with Load(7, with_ml) as load:
        time.sleep(2)
        frozen_at, thawed_at = hold(
            lambda: standby.signal_all(signal.SIGSTOP),
            lambda: standby.signal_all(signal.SIGCONT),
            15,
        )
        time.sleep(3)
    assert_all_answered(load, within=READ_DEADLINE + 1)
    assert_served_throughout(load, api, frozen_at, thawed_at)
    lines = request_lines(marks)
    # (From 5 s into the freeze: a cache that had just started held no positions, and for its
    # first seconds every identified caller read from the primary.)
    ml_reads = [
        line
        for line in lines
        if line["path"].startswith("/api/ml/")
        and line["status"] == 200
        and in_window(line, (frozen_at + 5, thawed_at))
    ]
    assert ml_reads
    # While the first standby is frozen, ML work moves to the second one, not to the primary.
    assert not [line for line in ml_reads if "ml_primary" in line["db_read_aliases"]]
    assert [line for line in ml_reads if line["db_read_aliases"] == ["ml_2"]]
    report("standby-frozen-15s", load, retried=sum(1 for line in lines if line["db_retries"]))


def test_a_standby_whose_replay_waits_behind_a_long_query_is_worked_around(topology):
    tokens, issues = seed(topology, user=3, viewer=3)
    api = Api(topology)
    cluster = topology.cluster
    standby = cluster.standbys[0]
    marks = log_marks(topology)
    holder = threading.Thread(
        target=cluster.psql,
        args=(standby, "SELECT count(*), pg_sleep(12) FROM issues"),
        daemon=True,
    )
    with Load(6, writes_then_reads(api, tokens["user"], tokens["viewer"], issues)) as load:
        time.sleep(1)
        holder.start()
        time.sleep(0.5)
        # A 2 ms statement on the primary; replaying it on the standby needs the table's lock,
        # which the long query holds: replay waits, and every read of the table queues behind.
        cluster.psql(cluster.primary, "ALTER TABLE issues ADD COLUMN drill_blocker integer")
        blocked_at = time.monotonic()
        holder.join(timeout=30)
        unblocked_at = time.monotonic()
        time.sleep(2)
    cluster.psql(cluster.primary, "ALTER TABLE issues DROP COLUMN drill_blocker")
    assert_all_answered(load, within=READ_DEADLINE + 1)
    assert unblocked_at - blocked_at > 8
    assert_served_throughout(load, api, blocked_at, unblocked_at)
    retried = sum(1 for line in request_lines(marks) if line["db_retries"])
    assert retried > 0, "no read queued behind replay: the drill did not block anything"
    report("replay-blocked-by-a-long-query", load, retried=retried)


def test_a_standby_stopped_behind_pgbouncer_fails_no_read(topology):
    tokens, issues = seed(topology, viewer=4)
    api = Api(topology)
    cluster = topology.cluster
    standby = cluster.standbys[1]
    with Load(4, writes_then_reads(api, [], tokens["viewer"], issues)) as load:
        time.sleep(1.5)
        hold(lambda: cluster.stop_server(standby), lambda: cluster.start_server(standby), 8)
        time.sleep(2)
    cluster.wait_streaming()
    assert load.statuses("read")
    assert_all_answered(load, within=READ_DEADLINE + 1)
    report("standby-stopped-behind-pgbouncer", load)


def test_primary_stopped_then_started_loses_nothing_and_reads_own_writes(topology):
    tokens, issues = seed(topology, user=3, viewer=2)
    api = Api(topology)
    cluster = topology.cluster
    with Load(5, writes_then_reads(api, tokens["user"], tokens["viewer"], issues)) as load:
        time.sleep(2)
        stopped_at, started_at = hold(
            lambda: cluster.stop_server(cluster.primary),
            lambda: cluster.start_server(cluster.primary),
            15,
        )
        # PgBouncer retries a server whose logins failed after server_login_retry (15 s):
        # wait for the first acknowledged write, then keep the load on for a few seconds.
        deadline = started_at + 40
        while time.monotonic() < deadline and not [
            o for o in load.of("write") if o.status == 201 and o.started > started_at
        ]:
            time.sleep(0.2)
        time.sleep(4)
    cluster.wait_streaming()
    assert not load.errors, load.errors
    writes = load.of("write")
    statuses = Counter(o.status for o in writes)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[503] > 0, "no write saw the outage"
    assert all(o.headers.get("Retry-After") for o in writes if o.status == 503)
    after = [o for o in writes if o.status == 201 and o.started > started_at]
    assert after, "no write was acknowledged after the restart"
    first_after = min(o.started for o in after)
    acknowledged = [o.body["sent_key"] for o in writes if o.status == 201]
    stored = stored_keys(topology, acknowledged)
    assert all(stored[key] == 1 for key in acknowledged), "an acknowledged write was lost"
    # A 503 says whether the write may have been stored (the server failed under way) or was
    # not (nothing reached a server): those must not be.
    refused = [o.body["sent_key"] for o in writes if o.status == 503 and not maybe_stored(o)]
    assert refused and not stored_keys(topology, refused), "a refused write was stored"
    assert load.slowest() <= READ_DEADLINE + 1, load.slowest()
    own = load.statuses("own-read")
    assert set(own) == {200}, f"own writes missed: {own}"
    after_restart = [o for o in load.of("own-read") if first_after <= o.started < first_after + 3]
    assert after_restart, "no own-write read in the first seconds after the restart"
    assert set(load.statuses("read")) == {200}, load.statuses("read")
    report(
        "primary-stopped-15s",
        load,
        writes=dict(statuses),
        acknowledged_stored=len(acknowledged),
        refused_not_stored=len(refused),
        own_reads=sum(own.values()),
        own_reads_first_3s_after_restart=len(after_restart),
        outage=f"{started_at - stopped_at:.0f}s",
        writes_back_after=f"{first_after - started_at:.1f}s",
    )


def test_paused_replay_never_serves_a_writer_a_stale_read(topology):
    tokens, issues = seed(topology, user=3, viewer=3)
    api = Api(topology)
    cluster = topology.cluster
    standby = cluster.standbys[0]
    marks = log_marks(topology)
    with Load(6, writes_then_reads(api, tokens["user"], tokens["viewer"], issues)) as load:
        time.sleep(1.5)
        paused_at, resumed_at = hold(
            lambda: cluster.psql(standby, "SELECT pg_wal_replay_pause()"),
            lambda: cluster.psql(standby, "SELECT pg_wal_replay_resume()"),
            30,
        )
        time.sleep(2)
    assert not load.errors, load.errors
    assert set(load.statuses("write")) == {201}, load.statuses("write")
    own = load.statuses("own-read")
    assert set(own) == {200}, f"own writes missed: {own}"
    lines = request_lines(marks)
    writers = {line["user_id"] for line in lines if line["db_wrote"]}
    readers = {line["user_id"] for line in lines if line["method"] == "GET"} - writers
    # Once the paused standby lags past REPLICA_MAX_LAG_SECONDS (5 s, and a second to notice),
    # readers who did not write are served by the other standby, not by the stale one.
    window = (paused_at + 7, resumed_at)
    reads = [
        line
        for line in lines
        if line["user_id"] in readers and line["method"] == "GET" and in_window(line, window)
    ]
    assert reads
    assert not [line for line in reads if "replica_1" in line["db_read_aliases"]]
    assert [line for line in reads if line["db_read_aliases"] == ["replica_2"]]
    report("replay-paused-30s", load, own_reads=sum(own.values()), readers_reads=len(reads))


def in_window(line: dict, window: tuple[float, float]) -> bool:
    """Whether a log line's time lies in a window of ``time.monotonic()`` values."""
    logged = datetime.fromisoformat(line["time"]).timestamp()
    offset = time.time() - time.monotonic()
    return window[0] + offset <= logged <= window[1] + offset


def test_own_writes_are_read_from_standbys_once_they_have_caught_up(topology):
    tokens, issues = seed(topology, user=4)
    api = Api(topology)
    marks = log_marks(topology)
    with Load(4, writes_then_reads(api, tokens["user"], [], issues)) as load:
        time.sleep(8)
    assert set(load.statuses("own-read")) == {200}
    own_reads = [
        line
        for line in request_lines(marks)
        if line["method"] == "GET" and line["path"].startswith("/api/issues/")
    ]
    from_standbys = [line for line in own_reads if "default" not in line["db_read_aliases"]]
    share = len(from_standbys) / len(own_reads)
    assert share >= 0.9, f"{share:.0%} of own-write reads were served by standbys"
    report("own-writes-read-from-standbys", load, standby_share=f"{share:.0%}")


def test_a_dedicated_ml_standby_takes_the_ml_work(topology, operator):
    dedicated = topology.pgbouncer.url(ML_ROLE, topology.cluster.standbys[1].name)
    topology.restart_services(ML_DATABASE_URL=dedicated)
    try:
        tokens, _ = seed(topology, admin=1, issues=0)
        api = Api(topology)
        marks = log_marks(topology)
        answers = [
            api(tokens["admin"][0], "GET", "/api/ml/prediction-logs?limit=5") for _ in range(10)
        ]
        health = call(api.bases[0], operator, "GET", "/health/database", headers=BEHIND_TLS)
    finally:
        topology.restart_services()
    assert {answer.status for answer in answers} == {200}
    served = [
        line["db_read_aliases"] for line in request_lines(marks) if "/api/ml/" in line["path"]
    ]
    assert served == [["ml_dedicated"]] * 10
    assert health.body["session_settings"]["checked"] == ["default", "ml_dedicated", *ALIASES[1:]]
    assert health.body["session_settings"]["differences"] == []


# ---- the shared cache and rate limits ----------------------------------------------------


LAGGING_STANDBY = "ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'"


def test_a_restarted_or_frozen_redis_never_serves_a_writer_a_stale_read(topology):
    """A standby 3 s behind is usable (the limit is 5 s) for users who did not write; a writer's
    position held only in Redis is lost when Redis restarts empty, or never stored while it was
    frozen: their next reads must still see their write.
    """
    tokens, _ = seed(topology, user=4, issues=0)
    api = Api(topology)
    cluster, cache = topology.cluster, topology.redis
    standby = cluster.standbys[0]

    def write_then_read_back(token: str) -> list[Outcome]:
        key = f"R-{time.monotonic_ns()}"
        created = api(token, "POST", "/api/issues", {"key": key, "summary": "s"})
        assert created.status == 201, created
        return [api(token, "GET", f"/api/issues/{created.body['id']}") for _ in range(6)]

    cluster.psql(standby, LAGGING_STANDBY.format(delay="3s") + "; SELECT pg_reload_conf()")
    try:
        time.sleep(1)
        reads = []
        for token in tokens["user"][:2]:
            created_before = api(
                token, "POST", "/api/issues", {"key": f"B-{token[:6]}", "summary": "s"}
            )
            cache.stop()
            cache.start()  # empty: every stored position is gone
            reads += [
                api(token, "GET", f"/api/issues/{created_before.body['id']}") for _ in range(6)
            ]
        for token in tokens["user"][2:]:
            cache.signal(signal.SIGSTOP)
            try:
                time.sleep(1)
                during = write_then_read_back(token)  # the position cannot be stored
            finally:
                cache.signal(signal.SIGCONT)
            reads += during + write_then_read_back(token)
    finally:
        cluster.psql(
            standby, "ALTER SYSTEM RESET recovery_min_apply_delay; SELECT pg_reload_conf()"
        )
    cluster.wait_streaming()
    statuses = Counter(outcome.status for outcome in reads)
    assert statuses == {200: len(reads)}, f"own writes missed: {statuses}"
    print(
        f"\ntopology drill redis-restarted-lagging-standby: {len(reads)} own-write reads, 0 missed"
    )


def test_rate_limits_count_across_instances_and_workers(topology):
    limit, anonymous_limit = 400, 40
    topology.restart_services(
        API_THROTTLE_USER=f"{limit}/hour", API_THROTTLE_ANON=f"{anonymous_limit}/hour"
    )
    try:
        tokens, _ = seed(topology, viewer=1, issues=0)
        api = Api(topology)
        token = tokens["viewer"][0]

        def hammer(index: int):
            if index % 2:
                yield "user", api(token, "GET", "/api/projects?limit=1")
            else:
                # Without a token: a 401, counted against the anonymous limit (the schema and
                # the docs are not counted).
                yield "anonymous", api(None, "GET", "/api/projects?limit=1")

        with Load(8, hammer, pause=0) as load:
            # Until both limits refused requests for a while.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (
                load.statuses("user")[429] < 200 or load.statuses("anonymous")[429] < 100
            ):
                time.sleep(0.5)
    finally:
        topology.restart_services()
    user, anonymous = load.statuses("user"), load.statuses("anonymous")
    assert set(user) <= {200, 429} and set(anonymous) <= {401, 429}, (user, anonymous)
    assert user[429] >= 200 and anonymous[429] >= 100, (user, anonymous)
    assert limit <= user[200] <= limit * 1.05, user
    assert anonymous_limit <= anonymous[401] <= anonymous_limit * 1.05, anonymous
    report("rate-limits-2x2", load, user_allowed=user[200], anonymous_allowed=anonymous[401])


def test_redis_down_or_frozen_costs_requests_nothing_but_the_cache(topology, operator):
    tokens, issues = seed(topology, user=2, viewer=2)
    api = Api(topology)
    cache = topology.redis
    work = writes_then_reads(api, tokens["user"], tokens["viewer"], issues)
    with Load(4, work) as load:
        time.sleep(1.5)
        marks = log_marks(topology)
        cache.stop()
        time.sleep(4)
        ready = [
            call(base, operator, "GET", "/health/ready", headers=BEHIND_TLS) for base in api.bases
        ]
        cache.start()
        time.sleep(3)
        cache.signal(signal.SIGSTOP)  # a frozen Redis: connections hang instead of failing
        try:
            time.sleep(6)
            frozen_ready = call(api.bases[0], operator, "GET", "/health/ready", headers=BEHIND_TLS)
        finally:
            cache.signal(signal.SIGCONT)
        time.sleep(3)
        # Out of memory: reads answer, writes are refused.
        cache.cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
        cache.cli("CONFIG", "SET", "maxmemory", "1")
        try:
            time.sleep(2)
            full_ready = call(api.bases[1], operator, "GET", "/health/ready", headers=BEHIND_TLS)
        finally:
            cache.cli("CONFIG", "SET", "maxmemory", "0")
        time.sleep(2)
    assert_all_answered(load, within=READ_DEADLINE + 1)
    assert set(load.statuses("own-read")) == {200}
    for answer in [*ready, frozen_ready, full_ready]:
        assert answer.status == 200
        assert answer.body["status"] == "degraded"
        assert "shared cache unreachable or refusing writes" in answer.body["reasons"]
    # A request that meets a failing cache makes one call that fails: the breaker answers the
    # rest at once. The call waits one socket timeout at most (a frozen Redis never answers;
    # the slack is for a busy machine). What clients saw includes waiting behind other requests
    # for a worker, so it is bounded by the drills' deadline above, not here.
    lines = request_lines(marks)
    failed = [line for line in lines if line["cache_failures"]]
    assert failed and max(line["cache_failures"] for line in lines) == 1, Counter(
        line["cache_failures"] for line in lines
    )
    waits = [line["cache_wait_ms"] / 1000 for line in failed]
    assert max(waits) < CACHE_TIMEOUT * 4, sorted(waits)[-5:]
    # The frozen Redis was met: a call waited out its timeout (a stopped one refuses at once).
    assert max(waits) >= CACHE_TIMEOUT * 0.9, sorted(waits)[-5:]
    report(
        "redis-stopped-then-frozen",
        load,
        requests_that_met_it=len(failed),
        longest_cache_wait=f"{max(waits):.2f}s",
    )
