"""The production topology as processes on this machine, for the drills in ``make test``.

A primary and two streaming standbys (TCP, password roles that are not superusers), PgBouncer in
transaction mode in front of all three, Redis as the shared cache, and two service instances
(gunicorn, production settings) that reach the databases only through PgBouncer::

    service_1, service_2 --> pgbouncer --> primary, standby_1, standby_2
              \\--> redis

Everything listens on 127.0.0.1 ports picked at start and lives in one folder that ``stop()``
removes. ``docs/deployment.md`` describes the same topology for real hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.db.config import standby_lock_timeout_ms
from core.embedded import binaries
from core.topology.pgbouncer import PgBouncer
from core.topology.postgres import APP_ROLE, ML_ROLE, StreamingCluster
from core.topology.processes import free_ports
from core.topology.redis import Redis
from core.topology.service import BASE_DIR, ServiceInstance

STANDBYS = 2
INSTANCES = 2
READ_TIMEOUT = 1.0  # the instances' REPLICA_READ_TIMEOUT


def _state_file(root: Path) -> Path:
    # Beside the topology's folder, not in it: that folder belongs to the servers' user, who
    # must not choose what this process kills.
    return root.with_name(f"{root.name}.json")


def _forget_previous(root: Path) -> None:
    """Stop what an interrupted earlier run left behind in ``root``, and remove it."""
    state = _state_file(root)
    if state.exists():
        try:
            pids = json.loads(state.read_text()).get("pids", [])
        except ValueError:
            pids = []
        for pid in pids:
            for number in (signal.SIGCONT, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, number)
    if root.exists():
        for data_dir in root.glob("*/postmaster.pid"):
            binaries.run(
                "pg_ctl", "stop", "-D", data_dir.parent, "-m", "immediate", "-w", check=False
            )
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Topology:
    """The whole topology under ``root``; ``service_env`` extends the instances' environment."""

    root: Path
    service_env: dict[str, str] = field(default_factory=dict)
    cluster: StreamingCluster = field(init=False)
    pgbouncer: PgBouncer = field(init=False)
    redis: Redis = field(init=False)
    services: list[ServiceInstance] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        ports = free_ports(1 + STANDBYS + 2 + INSTANCES)
        self.cluster = StreamingCluster(
            self.root / "pg",
            ports[: 1 + STANDBYS],
            lock_timeout_ms=standby_lock_timeout_ms(READ_TIMEOUT),
        )
        self._pgbouncer_port, self._redis_port, *self._service_ports = ports[1 + STANDBYS :]

    @classmethod
    def for_data_dir(cls, data_dir: Path, **kwargs) -> Topology:
        return cls(binaries.server_root(Path(data_dir), "topology"), **kwargs)

    # ---- environment ------------------------------------------------------------------

    def env(self, *, direct: bool = False, **overrides: str) -> dict[str, str]:
        """The environment of a service process (or a manage.py command) in this topology:
        through PgBouncer, or (``direct``) straight to the servers, as a DBA's job would.
        """
        app = self.cluster.passwords
        if direct:
            primary_url = self.cluster.url(APP_ROLE, self.cluster.primary)
            standby_urls = [self.cluster.url(APP_ROLE, s) for s in self.cluster.standbys]
        else:
            primary_url = self.pgbouncer.url(APP_ROLE, self.cluster.primary.name)
            standby_urls = [self.pgbouncer.url(APP_ROLE, s.name) for s in self.cluster.standbys]
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "REPLICA_", "ML_", "CACHE_"))
            and key not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "THROTTLE_CACHE_URL")
        }
        environment.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY=self._secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=primary_url,
            REPLICA_DATABASE_URLS=",".join(standby_urls),
            DATABASE_POOL_MODE="transaction",
            REPLICA_READ_TIMEOUT=str(READ_TIMEOUT),
            ML_DATABASE_USER=ML_ROLE,
            ML_DATABASE_PASSWORD=app[ML_ROLE],
            CACHE_URL=self.redis.url if hasattr(self, "redis") else "locmemcache://topology",
            EMBEDDED_DB_DIR=str(self.root / "unused-embedded"),
            PYTHONUNBUFFERED="1",
        )
        environment.update(self.service_env)
        environment.update(overrides)
        return environment

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
        """Run ``manage.py`` with this topology's environment; its completed process."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _manage_or_fail(self, *args: str, env: dict[str, str] | None = None) -> None:
        finished = self.manage(*args, env=env)
        if finished.returncode != 0:
            detail = (finished.stderr.strip() or finished.stdout.strip())[-2000:]
            raise binaries.ServerSetupError(f"manage.py {args[0]} failed: {detail}")

    # ---- start / stop -----------------------------------------------------------------

    def start(self) -> None:
        _forget_previous(self.root)
        binaries.private_folder(self.root)
        self._secret_key = secrets.token_urlsafe(48)
        try:
            self.cluster.start()
            # The DBA's step: each role gets its sessions' settings, before any pooled session
            # exists (PgBouncer keeps a server session's settings as long as it keeps it).
            self._manage_or_fail("session_settings", "--apply", env=self.env(direct=True))
            servers = {self.cluster.primary.name: self.cluster.primary}
            servers.update({standby.name: standby for standby in self.cluster.standbys})
            self.pgbouncer = PgBouncer(
                self.root / "pgbouncer",
                self._pgbouncer_port,
                servers,
                {
                    APP_ROLE: self.cluster.passwords[APP_ROLE],
                    ML_ROLE: self.cluster.passwords[ML_ROLE],
                },
            )
            self.pgbouncer.start()
            self.redis = Redis(self.root / "redis", self._redis_port)
            self.redis.start()
            self._manage_or_fail("migrate", "--noinput")
            self.cluster.wait_streaming()
            for number, port in enumerate(self._service_ports, start=1):
                service = ServiceInstance(
                    f"service_{number}", port, self.env(), self.root / f"service_{number}.log"
                )
                self.services.append(service)
                service.start()
        finally:
            self._save_state()

    def restart_services(self, **overrides: str) -> None:
        """Restart every instance with ``overrides`` in its environment (empty: the defaults)."""
        for service in self.services:
            service.stop()
            service.env = self.env(**overrides)
            service.start()
        self._save_state()

    def _save_state(self) -> None:
        processes = [service.process for service in self.services]
        processes += [getattr(self, "redis", None) and self.redis.process]
        processes += [getattr(self, "pgbouncer", None) and self.pgbouncer.process]
        pids = [process.pid for process in processes if process is not None]
        _state_file(self.root).write_text(json.dumps({"pids": pids}))

    def stop(self) -> None:
        """Stop every process and remove the topology's folder."""
        for service in self.services:
            service.stop()
        for part in ("redis", "pgbouncer"):
            if hasattr(self, part):
                getattr(self, part).stop()
        self.cluster.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        _state_file(self.root).unlink(missing_ok=True)
