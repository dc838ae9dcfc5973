"""Build Django's DATABASES from a primary URL and zero or more replica URLs.

Aliases:
- ``default``: the primary (all writes, all migrations);
- ``replica`` (one URL) or ``replica_1..N`` (several): streaming standbys;
- ``ml``: a connection to the first standby whose session carries the ML tuning and is
  read-only; with no standby configured it is a read-only tuned session on the primary;
- ``ml_primary``: the primary with the same tuning, used when no standby is usable and for
  ML writes (``ml_session(read_only=False)``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}

ML_SESSION_SETTINGS = {
    "statement_timeout": "300s",
    "work_mem": "256MB",
    "random_page_cost": "1.1",
}


def parse_database_url(url: str, *, variable: str) -> dict:
    """Turn a ``postgresql://user:password@host:port/name?opt=v`` URL into a DATABASES entry.

    Raises ImproperlyConfigured naming ``variable`` (never echoing the URL, which may hold a
    password) when the URL is not a usable PostgreSQL URL.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{variable} is malformed ({exc})") from None
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


def _session_options(settings: dict[str, str]) -> str:
    return " ".join(f"-c {key}={value}" for key, value in settings.items())


def _with_options(base: dict, **options: object) -> dict:
    entry = dict(base)
    merged = {**base["OPTIONS"], **options}
    if base["OPTIONS"].get("options") and "options" in options:
        # Keep the URL's own session settings (e.g. -c search_path=...) before ours.
        merged["options"] = f"{base['OPTIONS']['options']} {options['options']}"
    entry["OPTIONS"] = merged
    return entry


def build_databases(
    *,
    primary_url: str,
    replica_urls: list[str],
    conn_max_age: int,
    connect_timeout: int,
    statement_timeout_ms: int,
) -> dict[str, dict]:
    """Return the DATABASES setting for one primary and any number of standbys."""
    common = {
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": False,
    }
    # A server that vanishes mid-query over TCP is noticed within ~30 s instead of hanging
    # (libpq ignores these on Unix sockets).
    network_options = {
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 30_000,
    }
    api_options = {
        **network_options,
        "connect_timeout": connect_timeout,
        "options": _session_options({"statement_timeout": f"{statement_timeout_ms}ms"}),
    }
    primary = {**parse_database_url(primary_url, variable="DATABASE_URL"), **common}
    databases = {"default": _with_options(primary, **api_options)}

    replicas = [
        {**parse_database_url(url, variable="REPLICA_DATABASE_URLS"), **common}
        for url in replica_urls
    ]
    if len(replicas) == 1:
        databases["replica"] = _with_options(replicas[0], **api_options)
    else:
        for number, replica in enumerate(replicas, start=1):
            databases[f"replica_{number}"] = _with_options(replica, **api_options)

    ml_settings = _session_options(ML_SESSION_SETTINGS)
    ml_read_only = _session_options({**ML_SESSION_SETTINGS, "default_transaction_read_only": "on"})
    ml_base = replicas[0] if replicas else primary
    databases["ml"] = _with_options(
        ml_base, **network_options, connect_timeout=connect_timeout, options=ml_read_only
    )
    databases["ml_primary"] = _with_options(
        primary, **network_options, connect_timeout=connect_timeout, options=ml_settings
    )
    return databases


def replica_aliases(databases: dict[str, dict]) -> list[str]:
    """The standby aliases of a DATABASES setting, in order."""
    return [alias for alias in databases if alias == "replica" or alias.startswith("replica_")]
