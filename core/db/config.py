"""Build Django's DATABASES from a primary URL, standby URLs and the ML options.

Aliases:
- ``default``: the primary (all writes, all migrations);
- ``replica`` (one standby) or ``replica_1..N`` (several): API reads on the standbys;
- ``ml`` (one standby) or ``ml_1..N``: the ML session on each standby, so ML work can use any
  healthy one; ``ml_dedicated`` when ``ML_DATABASE_URL`` names a standby kept for ML work;
- ``ml_primary``: the ML session on the primary, when no standby is usable and for ML writes.

Every alias has documented session settings (``session_settings()``). They reach the session in
one of two ways, by ``DATABASE_POOL_MODE``:
- ``session`` (direct connections, or a pooler in session mode): sent at connection start as
  libpq ``options``;
- ``transaction`` (PgBouncer in transaction mode, which refuses ``options`` and cannot keep a
  ``SET`` on one client's session): nothing is sent; the settings are the roles' own
  (``manage.py session_settings --apply``) and, for standbys, the servers' (docs/deployment.md).
Either way ``/health/database`` reads what each session really has and names any difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
POOL_MODES = ("session", "transaction")
PRIMARY = "default"
ML_PRIMARY = "ml_primary"
ML_DEDICATED = "ml_dedicated"

ML_SESSION_SETTINGS = {
    "statement_timeout": "300s",
    "default_transaction_read_only": "on",
    "work_mem": "256MB",
    "random_page_cost": "1.1",
}


@dataclass(frozen=True)
class Standby:
    """One standby server: its name (in health and state), and the aliases that reach it."""

    name: str
    read_alias: str | None  # API reads; None for a standby kept for ML work only
    ml_alias: str

    @property
    def probe_alias(self) -> str:
        """An alias that reaches this standby, to ask it how it is."""
        return self.read_alias or self.ml_alias


@dataclass(frozen=True)
class DatabaseLayout:
    """What ``build_databases`` returns: Django's DATABASES and what the router needs to know."""

    databases: dict[str, dict]
    standbys: tuple[Standby, ...]
    session_settings: dict[str, dict[str, str]]

    @property
    def replica_aliases(self) -> list[str]:
        return [s.read_alias for s in self.standbys if s.read_alias is not None]

    @property
    def ml_aliases(self) -> list[str]:
        return [s.ml_alias for s in self.standbys]


def parse_database_url(url: str, *, variable: str) -> dict:
    """Turn a ``postgresql://user:password@host:port/name?opt=v`` URL into a DATABASES entry.

    Raises ImproperlyConfigured naming ``variable`` (never echoing the URL, which may hold a
    password) when the URL is not a usable PostgreSQL URL.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        # The parser's message may quote part of the URL, a password included.
        raise ImproperlyConfigured(
            f"{variable} is malformed (check the port, and that special characters in the "
            "user name and password are percent-encoded)"
        ) from None
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ImproperlyConfigured(
            f"{variable} must start with postgresql:// (got scheme {parts.scheme or 'none'!r})"
        )
    name = unquote(parts.path.lstrip("/"))
    query = dict(parse_qsl(parts.query))
    host = unquote(parts.hostname or "") or query.pop("host", "")
    if not name:
        raise ImproperlyConfigured(f"{variable} names no database (expected .../dbname)")
    if not host:
        raise ImproperlyConfigured(f"{variable} names no host (or ?host=/socket/dir)")
    return {
        "ENGINE": "core.db.backend",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or query.pop("port", "") or ""),
        "OPTIONS": query,
    }


def session_settings(
    *, statement_timeout_ms: int, standby_lock_timeout_ms: int
) -> dict[str, dict[str, str]]:
    """The documented settings of each kind of session: ``primary``, ``standby``, ``ml`` (on a
    standby) and ``ml_primary``.

    Standby sessions give up on a lock after ``standby_lock_timeout_ms``: a read that queues
    behind replay (an ``ALTER TABLE`` on the primary) ends cleanly, before the read deadline,
    and the request moves to another server.
    """
    lock = {"lock_timeout": f"{standby_lock_timeout_ms}ms"}
    api = {"statement_timeout": f"{statement_timeout_ms}ms"}
    return {
        "primary": api,
        "standby": {**api, **lock},
        "ml": {**ML_SESSION_SETTINGS, **lock},
        "ml_primary": dict(ML_SESSION_SETTINGS),
    }


def standby_lock_timeout_ms(replica_read_timeout: float) -> int:
    """``lock_timeout`` of standby sessions: half the read deadline, so that the server ends a
    read queued behind replay before the deadline would cut the connection.
    """
    return max(1, int(replica_read_timeout * 1000) // 2)


def _options_string(settings: dict[str, str]) -> str:
    return " ".join(f"-c {key}={value}" for key, value in settings.items())


def _entry(base: dict, *, session: dict[str, str], pool_mode: str, **options: object) -> dict:
    entry = dict(base)
    merged = {**base["OPTIONS"], **options}
    if pool_mode == "session":
        ours = _options_string(session)
        # Keep the URL's own session settings (e.g. -c search_path=...) before ours.
        own = base["OPTIONS"].get("options")
        merged["options"] = f"{own} {ours}" if own else ours
    else:
        # PgBouncer in transaction mode: server-side cursors would outlive the transaction
        # that owns them.
        entry["DISABLE_SERVER_SIDE_CURSORS"] = True
    entry["OPTIONS"] = merged
    return entry


def _as_user(entry: dict, user: str, password: str) -> dict:
    if not user:
        return entry
    return {**entry, "USER": user, "PASSWORD": password}


def build_databases(
    *,
    primary_url: str,
    replica_urls: list[str],
    conn_max_age: int,
    connect_timeout: int,
    statement_timeout_ms: int,
    replica_read_timeout: float = 1.0,
    pool_mode: str = "session",
    ml_url: str = "",
    ml_user: str = "",
    ml_password: str = "",
) -> DatabaseLayout:
    """Return the databases for one primary, any number of standbys and the ML sessions."""
    if pool_mode not in POOL_MODES:
        raise ImproperlyConfigured(f"DATABASE_POOL_MODE must be one of {', '.join(POOL_MODES)}")
    common = {"CONN_MAX_AGE": conn_max_age, "CONN_HEALTH_CHECKS": True, "ATOMIC_REQUESTS": False}
    # A server that vanishes mid-query over TCP is noticed within ~30 s instead of hanging
    # (libpq ignores these on Unix sockets); the read deadline ends standby reads far sooner.
    network = {
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,
    }
    # Connecting to a standby is bounded like reading from it (libpq's minimum is 2 s).
    standby_connect = min(connect_timeout, max(2, math.ceil(replica_read_timeout)))
    kinds = session_settings(
        statement_timeout_ms=statement_timeout_ms,
        standby_lock_timeout_ms=standby_lock_timeout_ms(replica_read_timeout),
    )

    def entry(url_entry: dict, kind: str, timeout: int) -> dict:
        return _entry(
            url_entry,
            session=kinds[kind],
            pool_mode=pool_mode,
            **network,
            connect_timeout=timeout,
        )

    primary = {**parse_database_url(primary_url, variable="DATABASE_URL"), **common}
    standby_urls = [
        {**parse_database_url(url, variable="REPLICA_DATABASE_URLS"), **common}
        for url in replica_urls
    ]
    databases = {PRIMARY: entry(primary, "primary", connect_timeout)}
    expected = {PRIMARY: kinds["primary"]}
    standbys: list[Standby] = []
    single = len(standby_urls) == 1
    if ml_url:
        dedicated = {**parse_database_url(ml_url, variable="ML_DATABASE_URL"), **common}
        databases[ML_DEDICATED] = _as_user(
            entry(dedicated, "ml", standby_connect), ml_user, ml_password
        )
        expected[ML_DEDICATED] = kinds["ml"]
        standbys.append(Standby(ML_DEDICATED, None, ML_DEDICATED))
    for number, url_entry in enumerate(standby_urls, start=1):
        read_alias = "replica" if single else f"replica_{number}"
        ml_alias = "ml" if single else f"ml_{number}"
        databases[read_alias] = entry(url_entry, "standby", standby_connect)
        databases[ml_alias] = _as_user(
            entry(url_entry, "ml", standby_connect), ml_user, ml_password
        )
        expected[read_alias] = kinds["standby"]
        expected[ml_alias] = kinds["ml"]
        standbys.append(Standby(read_alias, read_alias, ml_alias))
    if not standbys:
        # No standby at all: ``ml`` is a read-only ML session on the primary.
        databases["ml"] = _as_user(
            entry(primary, "ml_primary", connect_timeout), ml_user, ml_password
        )
        expected["ml"] = kinds["ml_primary"]
    databases[ML_PRIMARY] = _as_user(
        entry(primary, "ml_primary", connect_timeout), ml_user, ml_password
    )
    expected[ML_PRIMARY] = kinds["ml_primary"]
    return DatabaseLayout(databases, tuple(standbys), expected)
