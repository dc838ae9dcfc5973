"""``python -m bench``: load (once) the data set, measure, print and write the results.

``BENCH_ONLY=a,c`` runs a subset of the measurements (letters of ``bench/scenarios.py``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings as django_settings
    from django.core.management import call_command

    from bench import dataset, ingest, report, scenarios
    from bench.progress import step
    from bench.sizes import from_environment

    started = time.monotonic()
    settings = from_environment()
    # The request log of this run only (bench.settings).
    Path(os.environ["BENCH_LOG"]).write_text("")
    only = {part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()}
    database = django_settings.BENCH_DATABASE
    if settings.reload or not dataset.dataset_loaded(database, settings.sizes):
        dataset.recreate_database(database)
        dataset.load(database, settings.sizes)
    else:
        step(f"database {database} already holds this data set (BENCH_RELOAD=1 reloads it)")
        call_command("migrate", verbosity=0, interactive=False)
    context = scenarios.prepare(settings)
    in_process = {
        "a": scenarios.list_page,
        "p": scenarios.request_profile,
        "c": scenarios.first_page_growth,
        "d": scenarios.deep_pages,
        "e": scenarios.similarity,
        "g": scenarios.health,
    }
    over_http = {
        "f": scenarios.throughput,
        "h": ingest.bulk_upsert,
        "i": ingest.sync_pass,
    }
    rows = []
    for letter, measure in in_process.items():
        if not only or letter in only or (letter in "ap" and ({"a", "b"} & only)):
            rows += measure(context)
    for letter, measure in over_http.items():
        if not only or letter in only:
            rows += measure(context)
    rows.sort(key=lambda row: row.measure[:3])
    report.write(rows, settings, time.monotonic() - started)


if __name__ == "__main__":
    main()
