"""The health checks behind ``/health*`` and ``manage.py healthcheck``.

Each check returns a ``CheckResult``: ``healthy``, ``degraded`` (the service works, with less
margin: a standby is down or lagging, so reads fall back to the primary) or ``unhealthy`` (it
cannot serve: the primary, or every server, is unreachable), and the JSON body its endpoint
returns. Bodies never carry an exception's text (it may name a host, a socket or a user):
problems are summarised in ``reasons``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from core.db import replicas
from core.db.config import ML_PRIMARY
from core.db.router import ml_session, read_alias
from core.db.state import current
from core.db.vectors import vector_columns_accessible
from core.lifecycle import draining
from core.registry import vector_tables
from health.caches import cache_statuses
from health.embedding_counts import EmbeddingCounts, count_key, embedding_counts
from health.servers import (
    PRIMARY,
    UNREACHABLE,
    ProbeFailed,
    StandbyStatus,
    fetch,
    primary_status,
    replica_section,
    standby_status,
    standby_statuses,
)
from health.session_settings import session_settings_section

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
LIVE = "ok"  # liveness' answer: the process runs
SEVERITY = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
SCOPES = ("live", "ready", "database", "ml", "all")

ML_TABLES = ("ai_learning_memory", "ml_prediction_log", "ml_anomaly_alerts")
UNKNOWN = "unknown"

ML_TABLES_SQL = """
SELECT wanted.name,
       COALESCE(has_table_privilege(to_regclass(wanted.name), 'SELECT'), false)
FROM unnest(%s::text[]) AS wanted(name)
"""

EXTENSIONS_SQL = """
SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'),
       (SELECT extversion FROM pg_extension WHERE extname = 'pgml'),
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgml')
"""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its status, why, and the body its endpoint returns."""

    name: str
    status: str
    body: dict
    summary: str
    # What makes it unhealthy, and what only degrades it.
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return self.failures + self.warnings

    @property
    def http_status(self) -> int:
        return 503 if self.status == UNHEALTHY else 200


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _status(*, failures: list[str], warnings: list[str]) -> str:
    if failures:
        return UNHEALTHY
    return DEGRADED if warnings else HEALTHY


def _body(status: str, failures: list[str], warnings: list[str], **fields: object) -> dict:
    body: dict = {"status": status, **fields, "reasons": failures + warnings}
    if status == UNHEALTHY:
        # The specification's unhealthy shape carries one "error" string: what makes it so.
        body["error"] = "; ".join(failures)
    body["timestamp"] = _now()
    return body


def _lag_text(status: str, lag: float | None) -> str:
    return status if lag is None else f"{status} (lag {lag:.1f}s)"


def _standby_problems(standbys: list[StandbyStatus]) -> list[str]:
    return [standby.problem for standby in standbys if standby.problem]


@dataclass(frozen=True)
class Answer[T]:
    """Which alias answered a read (None when none did), its result, or why it failed."""

    served_by: str | None
    result: T | None = None
    failure: str | None = None


def _first_answer[T](aliases: list[str], read: Callable[[str], T]) -> Answer[T]:
    """Run ``read`` on the first alias whose server answers; note it as the one that served."""
    failures = []
    for alias in dict.fromkeys(aliases):
        try:
            result = read(alias)
        except ProbeFailed as failed:
            server = replicas.server_of(alias)
            if failed.unreachable and server is not None:
                replicas.mark_down(server)
            failures.append(failed.reason)
            continue
        current().note_read(alias)
        return Answer(served_by=alias, result=result)
    failure = UNREACHABLE if all(f == UNREACHABLE for f in failures) else failures[-1]
    return Answer(served_by=None, failure=failure)


def check_live() -> CheckResult:
    """Liveness: the process runs; no database is touched."""
    return CheckResult(name="live", status=HEALTHY, body={"status": LIVE}, summary="process up")


def check_ready() -> CheckResult:
    """Readiness: writes need the primary; reads fall back to it when no standby is usable."""
    primary = primary_status()
    standbys = standby_statuses()
    cache_states = cache_statuses()
    failures = [primary.problem] if primary.problem else []
    if draining():
        # Shutting down (SIGTERM): the load balancer should stop sending traffic here.
        failures.insert(0, "draining: this instance is shutting down")
    warnings = _standby_problems(standbys)
    warnings += [state.problem for state in cache_states if state.problem]
    usable = [standby.alias for standby in standbys if standby.status == "ok"]
    answering = [standby.alias for standby in standbys if standby.reachable]
    # As the router chooses: a usable standby, else the primary, else any standby that answers.
    reads_from = (usable or ([PRIMARY] if primary.reachable else answering) or [None])[0]
    status = _status(failures=failures, warnings=warnings)
    replica = replica_section(standbys)
    body = _body(
        status,
        failures,
        warnings,
        ready=status != UNHEALTHY,
        reads_from=reads_from,
        primary=primary.as_dict(),
        replica=replica,
        caches={state.name: state.as_dict() for state in cache_states},
    )
    cache_text = ", ".join(f"{s.name} {s.as_dict()['status']}" for s in cache_states)
    summary = (
        f"primary {primary.status}; replica {_lag_text(replica['status'], replica['lag_seconds'])}"
        f"; reads from {reads_from or 'no server'}; caches {cache_text}"
    )
    return CheckResult(
        name="ready",
        status=status,
        body=body,
        summary=summary,
        failures=failures,
        warnings=warnings,
    )


def _database_facts(alias: str) -> tuple[dict[str, str], EmbeddingCounts]:
    tables = dict(fetch(alias, ML_TABLES_SQL, [list(ML_TABLES)]))
    ml_tables = {name: "available" if tables[name] else "not_available" for name in ML_TABLES}
    return ml_tables, embedding_counts(alias, vector_tables())


def check_database() -> CheckResult:
    """The specification's database report, plus primary/standby state and who answered."""
    primary = primary_status()
    standbys = standby_statuses()
    answer = _first_answer([read_alias(), PRIMARY], _database_facts)
    failures = [primary.problem] if primary.problem else []
    if answer.served_by is None:
        if answer.failure != UNREACHABLE or not primary.problem:
            failures.append(f"no server answered reads: {answer.failure}")
        connection = "unavailable"
        ml_tables = dict.fromkeys(ML_TABLES, UNKNOWN)
        vector_columns = {count_key(table): UNKNOWN for table in vector_tables()}
        source = None
    else:
        connection = "ok" if not primary.problem else "read_only"
        ml_tables, counts = answer.result
        vector_columns = counts.counts
        source = counts.source()
    sessions = session_settings_section(primary_up=primary.reachable)
    warnings = _standby_problems(standbys) + sessions.problems
    status = _status(failures=failures, warnings=warnings)
    replica = replica_section(standbys)
    body = _body(
        status,
        failures,
        warnings,
        database_connection=connection,
        served_by=answer.served_by,
        ml_tables=ml_tables,
        vector_columns=vector_columns,
        vector_columns_source=source,
        primary=primary.as_dict(),
        replica=replica,
        session_settings=sessions.as_dict(),
    )
    available = sum(state == "available" for state in ml_tables.values())
    embeddings = ", ".join(f"{key} {value}" for key, value in vector_columns.items())
    summary = (
        f"reads served by {answer.served_by or 'no server'}; primary {primary.status}; "
        f"replica {_lag_text(replica['status'], replica['lag_seconds'])}; "
        f"ML tables available {available}/{len(ml_tables)}; {embeddings}; "
        f"session settings {sessions.status}"
    )
    return CheckResult(
        name="database",
        status=status,
        body=body,
        summary=summary,
        failures=failures,
        warnings=warnings,
    )


def _postgresml(alias: str, version: str | None, on_server: bool) -> dict:
    if version is None:
        reason = (
            "extension available on the server but not created in this database"
            if on_server
            else "extension not installed on this server"
        )
        return {"available": False, "reason": reason}
    try:
        version = fetch(alias, "SELECT pgml.version()")[0][0]
    except ProbeFailed:
        # The extension is there but its functions fail: report what pg_extension says.
        return {"available": False, "version": version, "reason": "pgml.version() failed"}
    return {"available": True, "version": version}


def _pgvector(alias: str, version: str | None) -> dict:
    if version is None:
        return {"available": False, "reason": "extension not created in this database"}
    try:
        fetch(alias, "SELECT '[1,2,3]'::vector")
    except ProbeFailed:
        return {"available": False, "version": version, "reason": "vector type unusable"}
    return {"available": True, "version": version}


def _ml_facts(alias: str) -> tuple[dict, dict]:
    vector_version, pgml_version, pgml_on_server = fetch(alias, EXTENSIONS_SQL)[0]
    return _postgresml(alias, pgml_version, pgml_on_server), _pgvector(alias, vector_version)


def _ml_standby_section(standbys: list[StandbyStatus]) -> tuple[str, float | None]:
    """The ML report's ``replica_connection`` and ``replica_lag_seconds``: the best of the
    standbys ML work may use (it uses any healthy one).
    """
    if not standbys:
        return "not_configured", None
    for status in ("ok", "lagging"):
        matching = [s for s in standbys if s.status == status]
        if matching:
            lags = [s.lag_seconds for s in matching if s.lag_seconds is not None]
            return status, (round(min(lags), 3) if lags else None)
    return "unreachable", None


def check_ml() -> CheckResult:
    """The specification's ML report: PostgresML, pgvector, vector columns, the ML standbys."""
    standbys = [
        standby_status(standby.ml_alias, standby.name) for standby in settings.DATABASE_STANDBYS
    ]
    with ml_session() as alias:
        answer = _first_answer([alias, ML_PRIMARY], _ml_facts)
        accessible = answer.served_by is not None and vector_columns_accessible()
    failures = [] if answer.served_by else [f"ML session: database {answer.failure}"]
    warnings = _standby_problems(standbys)
    if answer.served_by is None:
        postgresml = {"available": False, "reason": f"database {answer.failure}"}
        pgvector = {"available": False, "reason": f"database {answer.failure}"}
    else:
        postgresml, pgvector = answer.result
        if not pgvector["available"]:
            warnings.append("pgvector not available")
    status = _status(failures=failures, warnings=warnings)
    replica_connection, replica_lag = _ml_standby_section(standbys)
    body = _body(
        status,
        failures,
        warnings,
        postgresml=postgresml,
        pgvector=pgvector,
        vector_columns_accessible=accessible,
        replica_connection=replica_connection,
        replica_lag_seconds=replica_lag,
        max_lag_seconds=settings.REPLICA_MAX_LAG_SECONDS,
        served_by=answer.served_by,
    )
    summary = (
        f"served by {answer.served_by or 'no server'}; "
        f"pgvector {pgvector.get('version') if pgvector['available'] else 'not available'}; "
        f"postgresml {postgresml.get('version') if postgresml['available'] else 'not available'}; "
        f"vector columns accessible: {'yes' if accessible else 'no'}; "
        f"replica {_lag_text(replica_connection, replica_lag)}"
    )
    return CheckResult(
        name="ml", status=status, body=body, summary=summary, failures=failures, warnings=warnings
    )


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "live": check_live,
    "ready": check_ready,
    "database": check_database,
    "ml": check_ml,
}


def run_checks(scope: str) -> list[CheckResult]:
    """The checks of ``scope`` (one of ``SCOPES``; ``all`` runs every check)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
    names = list(CHECKS) if scope == "all" else [scope]
    return [CHECKS[name]() for name in names]


def worst_status(results: list[CheckResult]) -> str:
    """The most severe status among ``results``."""
    return max((result.status for result in results), key=SEVERITY.__getitem__)
