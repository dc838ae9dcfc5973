"""Create (or complete) the demo data set and print its logins; ``--reset`` starts over."""

from __future__ import annotations

import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import content
from demo.services import (
    DemoDataError,
    DemoSeedResult,
    DemoSize,
    database_is_empty,
    demo_counts,
    demo_password,
    demo_reset,
    demo_seed,
)

# Runs adding fewer rows of a kind than this stay quiet on stderr.
PROGRESS_FROM_ROWS = 1000
PROGRESS_BAR_WIDTH = 30
MAX_ROWS = 1_000_000


def row_count(value: str) -> int:
    """An argparse type: a whole number of rows, 0..MAX_ROWS."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not 0 <= number <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"expected 0..{MAX_ROWS}, got {number}")
    return number


class Command(BaseCommand):
    """``manage.py seed_demo``: a thin wrapper over ``demo.services``."""

    help = (
        "Create the demo clients, accounts (with API tokens and this checkout's password), projects, "
        "issues, pull requests and ML rows; a re-run adds only what is missing. Counts are per "
        "demo client."
    )

    def add_arguments(self, parser) -> None:
        defaults = DemoSize()
        parser.add_argument("--projects", type=row_count, default=defaults.projects)
        parser.add_argument("--issues", type=row_count, default=defaults.issues)
        parser.add_argument("--pull-requests", type=row_count, default=defaults.pull_requests)
        parser.add_argument(
            "--ml-rows",
            type=row_count,
            default=defaults.ml_rows,
            help="Rows in each ML table (learning memory, prediction logs, anomaly alerts).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo data first, then seed."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only when the database has no client at all (used by `make run`).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (demo accounts, a superuser among them, do not belong there).",
        )

    def handle(self, *args, if_empty: bool, reset: bool, force: bool, **options) -> None:
        if not (settings.DEBUG or force):
            if if_empty:
                self.stdout.write("seed_demo: skipped, DEBUG is off.")
                return
            raise CommandError(
                "DEBUG is off: demo accounts (a superuser among them) do not belong in production. "
                "Pass --force to seed anyway."
            )
        if if_empty and not database_is_empty():
            self.stdout.write("seed_demo: the database has data already; nothing seeded.")
            return
        if reset:
            removed = demo_reset()
            self.stdout.write(f"Removed demo data: {self._describe(removed)}.")
        size = DemoSize(
            projects=options["projects"],
            issues=options["issues"],
            pull_requests=options["pull_requests"],
            ml_rows=options["ml_rows"],
        )
        try:
            result = demo_seed(size=size, progress=self._progress)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from None
        self._report(result)

    def _progress(self, what: str, done: int, total: int) -> None:
        if total < PROGRESS_FROM_ROWS:
            return
        filled = PROGRESS_BAR_WIDTH * done // total
        bar = "#" * filled + "." * (PROGRESS_BAR_WIDTH - filled)
        self.stderr.write(f"\r{what} [{bar}] {done}/{total}", ending="\n" if done == total else "")
        self.stderr.flush()

    def _report(self, result: DemoSeedResult) -> None:
        added = {kind: n for kind, n in result.created.items() if n}
        self.stdout.write(f"Added: {self._describe(added) if added else 'nothing (all there)'}.")
        self.stdout.write(f"Demo data now: {self._describe(demo_counts())}.")
        self.stdout.write(
            f"Password of every demo account (this checkout's own): {demo_password()}"
        )
        self.stdout.write(f"Django admin (/admin/): {content.OPERATOR_EMAIL} (superuser)")
        self.stdout.write("API tokens (Authorization: Bearer <token>):")
        for login in result.logins:
            self.stdout.write(
                f"  {login.client:<26} {login.role:<7} {login.email:<32} {login.token}"
            )

    @staticmethod
    def _describe(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in counts.items())
