"""Redis from Debian's ``redis-server`` package: the shared cache of the service instances."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from core.embedded import binaries
from core.embedded.binaries import ServerSetupError
from core.topology.processes import HOST, stop_process, wait_for_port

PROGRAM = "/usr/bin/redis-server"


def installed() -> bool:
    return Path(PROGRAM).exists() or shutil.which("redis-server") is not None


@dataclass
class Redis:
    """One Redis process, in memory only (no snapshots, no append-only file)."""

    root: Path
    port: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def log_file(self) -> Path:
        return self.root / "redis.log"

    def start(self) -> None:
        if not installed():
            raise ServerSetupError("redis-server is not installed (Debian package redis-server)")
        binaries.private_folder(self.root)
        self.process = subprocess.Popen(
            [
                PROGRAM, "--bind", HOST, "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.root), "--logfile", str(self.log_file),
                "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
            **binaries.process_user(),
        )  # fmt: skip
        wait_for_port(self.port, process=self.process, name="redis-server", log=self.log_file)

    def cli(self, *args: str) -> str:
        """A command through ``redis-cli`` (``CONFIG SET maxmemory 1``...); its output."""
        finished = subprocess.run(
            ["redis-cli", "-h", HOST, "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return finished.stdout.strip()

    def signal(self, number: int) -> None:
        """SIGSTOP / SIGCONT the server (a frozen Redis)."""
        if self.process is not None:
            self.process.send_signal(number)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
