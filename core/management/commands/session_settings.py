"""Compare each alias's session settings with the documented ones; give the roles their settings."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from core.db.probe import ProbeFailed
from core.db.session_settings import effective, mismatches, role_statements


class Command(BaseCommand):
    help = (
        "Show each database alias's effective session settings against the documented ones. "
        "--apply gives each role the settings of its aliases (ALTER ROLE ... IN DATABASE), "
        "needed behind PgBouncer in transaction mode."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--apply",
            action="store_true",
            help="Run the ALTER ROLE statements first (each role sets its own defaults).",
        )

    def handle(self, *args, apply: bool, **options) -> None:
        if apply:
            self._apply()
        problems = 0
        for alias in settings.DATABASE_SESSION_SETTINGS:
            try:
                differences = mismatches(alias, effective(alias))
            except ProbeFailed as failed:
                self.stdout.write(f"{alias:<14} {failed.reason}")
                problems += 1
                continue
            if differences:
                problems += 1
                for difference in differences:
                    self.stdout.write(f"{alias:<14} {difference.setting} is "
                                      f"{difference.actual}, expected {difference.expected}")  # fmt: skip
            else:
                wanted = settings.DATABASE_SESSION_SETTINGS[alias]
                listed = ", ".join(f"{k}={v}" for k, v in wanted.items())
                self.stdout.write(f"{alias:<14} ok ({listed})")
        if problems:
            raise CommandError(f"{problems} alias(es) without their documented session settings")

    def _apply(self) -> None:
        if settings.DATABASE_POOL_MODE == "session":
            self.stdout.write(
                "DATABASE_POOL_MODE=session: the settings are sent when each session starts; "
                "no role needs them."
            )
            return
        try:
            statements = role_statements()
        except ValueError as error:
            raise CommandError(str(error)) from None
        for alias, statement in statements:
            # Once applied, the ML role's sessions start read-only: this one must not.
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SET TRANSACTION READ WRITE")
                cursor.execute(statement)
            self.stdout.write(f"{alias:<14} {statement}")
        for alias in connections:
            connections[alias].close()
        self.stdout.write(
            "Sessions opened from now on have these settings; behind PgBouncer, make it open new "
            "server connections (RECONNECT in its console, or a restart)."
        )
