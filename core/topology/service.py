"""One instance of the service: gunicorn with the production settings, as ``make run`` serves it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.topology.processes import HOST, stop_process, wait_for_port

BASE_DIR = Path(__file__).resolve().parents[2]


@dataclass
class ServiceInstance:
    """A gunicorn master with ``workers`` sync workers on ``port``."""

    name: str
    port: int
    env: dict[str, str]
    log_file: Path
    workers: int = 2
    # More gunicorn options (gunicorn.conf.py holds the rest).
    args: tuple[str, ...] = ()
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(gunicorn), "config.wsgi", "--bind", f"{HOST}:{self.port}",
                    "--workers", str(self.workers), *self.args,
                ],
                cwd=BASE_DIR,
                # Stopped at once unless a test asks for the drain (gunicorn.conf.py).
                env={"DRAIN_SECONDS": "0", **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(self.port, process=self.process, name=self.name, log=self.log_file)

    def stop(self) -> None:
        stop_process(self.process, timeout=30.0)
        self.process = None
