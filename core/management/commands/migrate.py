"""``migrate``, retrying a migration that could not get its locks in time.

Each migration that runs in a transaction waits at most ``MIGRATION_LOCK_TIMEOUT_MS`` for a lock
(``core.db.backend``). When it is refused (SQLSTATE 55P03: a long query or transaction holds the
table), its transaction is rolled back whole, so running ``migrate`` again is safe: this command
does so, after a growing pause, up to ``MIGRATION_LOCK_RETRIES`` times, and then stops with one
line saying what to look for. Migrations already applied stay applied.
"""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import OperationalError, connections

from core.db.failover import sqlstate

LOCK_NOT_AVAILABLE = "55P03"


class Command(migrate.Command):
    help = migrate.Command.help + " Retries a migration that waited too long for a lock."
    applying = None  # the migration being applied

    def migration_progress_callback(self, action, migration=None, fake=False):
        if action == "apply_start":
            self.applying = migration
        super().migration_progress_callback(action, migration, fake)

    def handle(self, *args, **options):
        retries = settings.MIGRATION_LOCK_RETRIES
        for attempt in range(retries + 1):
            self.applying = None
            try:
                return super().handle(*args, **options)
            except (CommandError, OperationalError) as error:
                if self.applying is not None:
                    # End the progress line ("Applying x...") before the error's own.
                    self.stdout.write("")
                if isinstance(error, CommandError) or sqlstate(error) != LOCK_NOT_AVAILABLE:
                    raise
                if self.applying is not None and not self.applying.atomic:
                    # Not rolled back: what it did before the lock stays done.
                    raise CommandError(
                        f"{self.applying.app_label}.{self.applying.name} (not atomic) waited "
                        "too long for a lock and stopped part-way: check what it did before "
                        "running migrate again"
                    ) from None
                if attempt == retries:
                    raise CommandError(
                        f"a migration waited more than {settings.MIGRATION_LOCK_TIMEOUT_MS} ms "
                        f"for a lock, {retries + 1} times: a long query or transaction holds a "
                        "table (see pg_stat_activity); run migrate again once it is over"
                    ) from None
                pause = min(0.5 * 2**attempt, 30.0) * random.uniform(0.8, 1.2)
                self.stderr.write(
                    f"a migration waited more than {settings.MIGRATION_LOCK_TIMEOUT_MS} ms for "
                    f"a lock and was rolled back; retrying in {pause:.1f} s "
                    f"({attempt + 1} of {retries})"
                )
                self._discard_connection(options["database"])
                time.sleep(pause)
        return None

    @staticmethod
    def _discard_connection(alias: str) -> None:
        """A fresh session for the next try. A lock refused while the migration's deferred
        statements ran (foreign keys are added last) leaves Django's wrapper inside its atomic
        block: the session is closed (the server rolls the transaction back) and the wrapper
        replaced."""
        raw = connections[alias].connection
        if raw is not None:
            raw.close()
        del connections[alias]
