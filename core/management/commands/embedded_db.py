"""Control the embedded PostgreSQL primary and its streaming standby."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.embedded.postgres import EmbeddedDatabaseError


class Command(BaseCommand):
    help = "start|stop|status the embedded primary + standby (--replica: the standby alone)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])
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
