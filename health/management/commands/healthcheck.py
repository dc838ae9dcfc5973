"""``manage.py healthcheck``: the health checks from a shell, a cron job or a container probe.

Exit status 0 when healthy or degraded (degraded fails with ``--strict``), 1 otherwise, with a
one-line reason on stderr.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from health.checks import DEGRADED, HEALTHY, SCOPES, UNHEALTHY, run_checks, worst_status


class Command(BaseCommand):
    help = (
        "Check the service's health (live, ready, database, ml or all). Exit 0 when healthy "
        "or degraded, 1 when unhealthy (or degraded, with --strict)."
    )
    # A probe must answer fast and must not fail on an unrelated system check.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scope", choices=SCOPES, default="all", help="Default: all.")
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print the JSON the endpoints return.",
        )
        parser.add_argument("--strict", action="store_true", help="Fail when degraded too.")

    def handle(self, *args, scope: str, as_json: bool, strict: bool, **options) -> None:
        results = run_checks(scope)
        status = worst_status(results)
        if as_json:
            self._write_json(results, status)
        else:
            for result in results:
                self.stdout.write(f"{result.name:<9} {result.status:<9} {result.summary}")
                for reason in result.reasons:
                    self.stdout.write(f"{'':<19} - {reason}")
            if len(results) > 1:
                self.stdout.write(f"overall   {status}")
        if status == HEALTHY or (status == DEGRADED and not strict):
            return
        # Unhealthy: what makes it so; degraded (--strict): every reason.
        reasons = dict.fromkeys(
            reason
            for result in results
            for reason in (result.failures if status == UNHEALTHY else result.reasons)
        )
        qualifier = " (--strict)" if status == DEGRADED else ""
        raise CommandError(f"{status}{qualifier}: {'; '.join(reasons)}")

    def _write_json(self, results, status: str) -> None:
        if len(results) == 1:
            document = results[0].body
        else:
            document = {"status": status, "checks": {r.name: r.body for r in results}}
        self.stdout.write(json.dumps(document, indent=2))
