"""PgBouncer from Debian's ``pgbouncer`` package in front of every server, in transaction mode.

Stock settings apart from what any deployment has to say: where to listen, the servers (one
PgBouncer database per server), the password file, and ``pool_mode = transaction``. In
particular ``ignore_startup_parameters`` is left empty, so a client that sends libpq ``options``
is refused, as a stock PgBouncer refuses it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from core.embedded import binaries
from core.embedded.binaries import ServerSetupError
from core.topology.postgres import DATABASE, PgServer
from core.topology.processes import HOST, stop_process, wait_for_port

PROGRAM = "/usr/sbin/pgbouncer"

CONFIG = """[databases]
{databases}

[pgbouncer]
listen_addr = {host}
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {auth_file}
pool_mode = transaction
logfile = {log_file}
pidfile = {pid_file}
"""


def installed() -> bool:
    return Path(PROGRAM).exists() or shutil.which("pgbouncer") is not None


@dataclass
class PgBouncer:
    """One PgBouncer process; ``databases`` maps a PgBouncer database name to its server."""

    root: Path
    port: int
    databases: dict[str, PgServer]
    passwords: dict[str, str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path:
        return self.root / "pgbouncer.log"

    def url(self, role: str, database: str) -> str:
        return f"postgresql://{role}:{self.passwords[role]}@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        if not installed():
            raise ServerSetupError("pgbouncer is not installed (Debian package pgbouncer)")
        binaries.private_folder(self.root)
        lines = [
            f"{name} = host={HOST} port={server.port} dbname={DATABASE}"
            for name, server in self.databases.items()
        ]
        auth_file = self.root / "userlist.txt"
        auth_file.write_text(
            "".join(f'"{role}" "{password}"\n' for role, password in self.passwords.items())
        )
        config = self.root / "pgbouncer.ini"
        config.write_text(
            CONFIG.format(
                databases="\n".join(lines), host=HOST, port=self.port, auth_file=auth_file,
                log_file=self.log_file, pid_file=self.root / "pgbouncer.pid",
            )
        )  # fmt: skip
        for path in (auth_file, config):
            path.chmod(0o600)
            binaries.give_to_service_user(path)
        self.process = subprocess.Popen(
            [PROGRAM, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
            **binaries.process_user(),
        )
        wait_for_port(self.port, process=self.process, name="pgbouncer", log=self.log_file)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
