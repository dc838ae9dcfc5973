"""Control the embedded PostgreSQL primary and its streaming standby.

``embedded_db env`` prints shell exports for reaching them with PostgreSQL's own tools (``psql``
of the same version on ``PATH``, ``PGHOST``, ``PGUSER``, ``PRIMARY_PORT``, ``STANDBY_PORT``):
``eval "$(python manage.py embedded_db env)"``, as the rehearsal in docs/deployment.md does.
"""

import shlex

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.embedded.postgres import EmbeddedDatabaseError


class Command(BaseCommand):
    help = (
        "start|stop|status the embedded primary + standby (--replica: the standby alone); "
        "env: shell exports for psql."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status", "env"])
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--replica", action="store_true", help="Act on the standby only.")
        which.add_argument("--primary", action="store_true", help="Act on the primary only.")

    def handle(self, *args, action: str, replica: bool, primary: bool, **options) -> None:
        embedded = settings.EMBEDDED_DB
        if embedded is None:
            self.stdout.write("DATABASE_URL is set: the embedded database is not in use.")
            return
        servers = {"primary": not replica, "standby": not primary}
        try:
            if action == "start":
                done = embedded.start(**servers)
                self.stdout.write("; ".join(done) if done else "already running")
            elif action == "env":
                from core.embedded import binaries
                from core.embedded.postgres import SUPERUSER

                exports = {
                    "PATH": f"{binaries.bin_dir()}:$PATH",
                    "PGHOST": str(embedded.socket_dir),
                    "PGUSER": SUPERUSER,
                    "PRIMARY_PORT": str(embedded.primary.port),
                    "STANDBY_PORT": str(embedded.standby.port),
                }
                for name, value in exports.items():
                    quoted = f'"{value}"' if name == "PATH" else shlex.quote(value)
                    self.stdout.write(f"export {name}={quoted}")
            elif action == "stop":
                done = embedded.stop(**servers)
                self.stdout.write("; ".join(done) if done else "already stopped")
            else:
                for name, state in embedded.status().items():
                    if servers[name]:
                        running = "running" if state["running"] else "stopped"
                        if not state["initialised"]:
                            running = "not created"
                        self.stdout.write(f"{name}: {running}  {state['url']}")
        except EmbeddedDatabaseError as exc:
            raise CommandError(str(exc)) from None
