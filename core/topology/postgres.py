"""A PostgreSQL primary and streaming standbys on TCP ports of 127.0.0.1, as separate hosts would be.

Made from the same binaries as the embedded pair (``core.embedded.binaries``). The service connects
with password roles that are not superusers, as in production:

- ``analytics_app``: owns the database; the API's sessions (primary and standbys);
- ``analytics_ml``: a member of ``analytics_app`` whose role settings are the ML session's;
- ``replicator``: streams WAL to the standbys.

The superuser ``postgres`` is reached only over a Unix socket in a private folder (the operator's
access). Standbys are made with ``pg_basebackup -R`` over TCP, each with its own replication slot.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.embedded import binaries
from core.embedded.binaries import ServerSetupError
from core.topology.processes import HOST

DATABASE = "analytics"
SUPERUSER = "postgres"
APP_ROLE = "analytics_app"
ML_ROLE = "analytics_ml"
REPLICATION_ROLE = "replicator"

PRIMARY_CONF = """
# --- topology primary ---
listen_addresses = '{host}'
unix_socket_directories = '{socket_dir}'
port = {port}
max_connections = 200
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = 1GB
hot_standby = on
wal_receiver_status_interval = 1s
password_encryption = scram-sha-256
logging_collector = off
include_if_exists = 'instance.conf'
"""

HBA = """
local all {superuser} trust
local replication {superuser} trust
host all {app},{ml} {host}/32 scram-sha-256
host replication {replication} {host}/32 scram-sha-256
"""

# What docs/deployment.md asks of every standby: keep vacuum on the primary from cancelling
# standby reads, bound how long replay may wait behind a standby query, and end a read that
# queues behind replay (an ALTER TABLE on the primary) quickly, so the service moves it elsewhere.
STANDBY_CONF = """
port = {port}
hot_standby_feedback = on
max_standby_streaming_delay = 30s
lock_timeout = {lock_timeout_ms}ms
"""


@dataclass
class PgServer:
    """One server of the cluster."""

    name: str
    port: int
    data_dir: Path
    log_file: Path

    def pid(self) -> int | None:
        """The postmaster's pid (None when not running)."""
        processes = binaries.server_processes(self.data_dir)
        return processes[0] if processes else None

    def signal_all(self, number: int) -> None:
        """Send ``number`` (SIGSTOP, SIGCONT) to the postmaster and all its processes."""
        binaries.signal_server(self.data_dir, number)


@dataclass
class StreamingCluster:
    """A primary and ``standbys`` streaming standbys under ``root``."""

    root: Path
    ports: list[int]
    # The standbys' lock_timeout (docs/deployment.md): half the service's read deadline.
    lock_timeout_ms: int = 500
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def primary(self) -> PgServer:
        return self._server("primary", 0)

    @property
    def standbys(self) -> list[PgServer]:
        return [self._server(f"standby_{n}", n) for n in range(1, len(self.ports))]

    def _server(self, name: str, index: int) -> PgServer:
        return PgServer(name, self.ports[index], self.root / name, self.root / f"{name}.log")

    # ---- administration ---------------------------------------------------------------

    def psql(self, server: PgServer, sql: str, *, database: str = DATABASE) -> str:
        """Run ``sql`` as the superuser on ``server``; its output (unaligned, tuples only)."""
        result = binaries.run(
            "psql", "-h", self.socket_dir, "-p", server.port, "-U", SUPERUSER, "-d", database,
            "-v", "ON_ERROR_STOP=1", "-tA", "-q", stdin=sql,
        )  # fmt: skip
        return result.stdout.strip()

    def url(self, role: str, server: PgServer) -> str:
        """A TCP URL of ``server`` for ``role``."""
        return f"postgresql://{role}:{self.passwords[role]}@{HOST}:{server.port}/{DATABASE}"

    # ---- start / stop -----------------------------------------------------------------

    def start(self) -> None:
        """Create the primary and its standbys, streaming; set up roles, database, pgvector."""
        binaries.private_folder(self.root)
        binaries.private_folder(self.socket_dir)
        self.passwords = {
            role: secrets.token_urlsafe(18) for role in (APP_ROLE, ML_ROLE, REPLICATION_ROLE)
        }
        self._create_primary()
        for index, standby in enumerate(self.standbys, start=1):
            self._create_standby(standby, slot=f"standby_{index}")
        self.wait_streaming()

    def _pg_ctl_start(self, server: PgServer) -> None:
        binaries.run(
            "pg_ctl", "start", "-D", server.data_dir, "-l", server.log_file, "-w", "-t", "60"
        )

    def _create_primary(self) -> None:
        server = self.primary
        binaries.run(
            "initdb", "-D", server.data_dir, "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
        )  # fmt: skip
        with open(server.data_dir / "postgresql.conf", "a") as conf:
            conf.write(PRIMARY_CONF.format(host=HOST, socket_dir=self.socket_dir, port=server.port))
        (server.data_dir / "pg_hba.conf").write_text(
            HBA.format(
                superuser=SUPERUSER, app=APP_ROLE, ml=ML_ROLE,
                replication=REPLICATION_ROLE, host=HOST,
            )
        )  # fmt: skip
        self._pg_ctl_start(server)
        app, ml, replication = (self.passwords[r] for r in (APP_ROLE, ML_ROLE, REPLICATION_ROLE))
        self.psql(
            server,
            f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{app}';"
            f"CREATE ROLE {ML_ROLE} LOGIN PASSWORD '{ml}' IN ROLE {APP_ROLE};"
            f"CREATE ROLE {REPLICATION_ROLE} LOGIN REPLICATION PASSWORD '{replication}';",
            database="postgres",
        )
        self.psql(server, f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE}", database="postgres")
        # The one statement a DBA runs before the first migrate (pgvector is not a trusted
        # extension): docs/deployment.md.
        self.psql(server, "CREATE EXTENSION vector")

    def _create_standby(self, server: PgServer, *, slot: str) -> None:
        binaries.run(
            "pg_basebackup", "-D", server.data_dir, "-h", HOST, "-p", self.primary.port,
            "-U", REPLICATION_ROLE, "-R", "-X", "stream", "-C", "-S", slot, "--checkpoint=fast",
            env={"PGPASSWORD": self.passwords[REPLICATION_ROLE]},
        )  # fmt: skip
        (server.data_dir / "instance.conf").write_text(
            STANDBY_CONF.format(port=server.port, lock_timeout_ms=self.lock_timeout_ms)
        )
        self._pg_ctl_start(server)

    def wait_streaming(self, timeout: float = 30.0) -> None:
        """Block until every standby streams and has replayed what the primary has written."""
        deadline = time.monotonic() + timeout
        target = self.psql(self.primary, "SELECT pg_current_wal_lsn()")
        pending = list(self.standbys)
        while pending and time.monotonic() < deadline:
            standby = pending[0]
            try:
                done = self.psql(
                    standby,
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
                    f" AND pg_last_wal_replay_lsn() >= '{target}'::pg_lsn",
                )
            except ServerSetupError:
                done = "f"
            if done == "t":
                pending.pop(0)
            else:
                time.sleep(0.1)
        if pending:
            raise ServerSetupError(f"{pending[0].name} did not catch up within {timeout:g}s")

    def stop_server(self, server: PgServer, *, mode: str = "fast") -> None:
        binaries.run("pg_ctl", "stop", "-D", server.data_dir, "-m", mode, "-w")

    def start_server(self, server: PgServer) -> None:
        self._pg_ctl_start(server)

    def stop(self) -> None:
        """Stop every server (immediately: the data is thrown away) and remove the files."""
        for server in [*self.standbys, self.primary]:
            if server.pid() is not None:
                server.signal_all(signal.SIGCONT)  # a stopped process cannot shut down
                binaries.run(
                    "pg_ctl", "stop", "-D", server.data_dir, "-m", "immediate", "-w", check=False
                )
        shutil.rmtree(self.root, ignore_errors=True)
