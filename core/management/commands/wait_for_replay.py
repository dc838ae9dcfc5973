"""``wait_for_replay``: wait until every standby has replayed the primary's WAL as of now.

The deploy order (docs/deployment.md): ``migrate`` on the primary, then this, then roll the
instances. New code that reads a new column from a standby must find it there: a standby that
has not replayed the migration would answer its reads with an error.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from core.db import replicas

POLL_SECONDS = 0.2


def lsn_text(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


class Command(BaseCommand):
    help = "Wait until every standby has replayed the primary's WAL position as of now."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=300.0, help="Seconds to wait (default 300)."
        )

    def handle(self, *args, timeout: float, **options) -> None:
        if timeout <= 0:
            raise CommandError("--timeout must be a number of seconds above 0")
        position = replicas.primary_wal_position()
        if position is None:
            raise CommandError("the primary does not answer: its WAL position is unknown")
        waiting = {s.name: s.probe_alias for s in replicas.standbys()}
        self.stdout.write(f"primary at {lsn_text(position)}; waiting for {len(waiting)} standbys")
        deadline = time.monotonic() + timeout
        while waiting:
            for server, alias in list(waiting.items()):
                if replicas.has_replayed(alias, server, position):
                    del waiting[server]
                    self.stdout.write(f"{server}: replayed {lsn_text(position)}")
            if not waiting:
                break
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"not replayed within {timeout:g} s: {', '.join(sorted(waiting))} "
                    "(see /health/database)"
                )
            time.sleep(POLL_SECONDS)
            replicas.reset()  # ask again, even a standby this process marked down
