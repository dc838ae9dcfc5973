"""The results: a table on stdout, ``docs/benchmarks.md``, ``docs/benchmarks.png`` (ratios
against targets) and ``docs/benchmarks-concurrency.png`` (throughput against concurrency)."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

from django.db import connections

from bench.scenarios import LIST_REPEATS_FACTOR, Row
from bench.sizes import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _verdict(row: Row) -> str:
    if row.met is None:
        return ""
    return "met" if row.met else "NOT met"


def table(rows: list[Row]) -> str:
    """A plain-text table for the terminal."""
    width = max(len(row.measure) for row in rows)
    lines = [f"{'measure':<{width}}  {'figure':<32} {'target':<26} verdict"]
    for row in rows:
        lines.append(f"{row.measure:<{width}}  {row.figure:<32} {row.target:<26} {_verdict(row)}")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        vector = (cursor.fetchone() or ["?"])[0]
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "PostgreSQL": f"{server} (embedded primary + streaming standby), pgvector {vector}",
    }


def _chart_points(rows: list[Row]) -> list[tuple[str, float, float, bool]]:
    points = []
    for row in rows:
        value = re.match(r"([0-9.]+)x", row.figure)
        target = re.match(r"(<=|>=) ([0-9.]+)x", row.target)
        if value and target:
            points.append((row.measure, float(value[1]), float(target[2]), target[1] == ">="))
    return points


def chart(rows: list[Row], path: Path) -> None:
    """Each ratio against its target (green: met), on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = _chart_points(rows)
    figure, axes = plt.subplots(figsize=(10, 0.55 * len(points) + 1.5))
    for index, (_, value, target, higher) in enumerate(points):
        met = value >= target if higher else value <= target
        axes.barh(index, value, color="#3a9a5b" if met else "#c8553d")
        axes.plot([target, target], [index - 0.4, index + 0.4], color="black", linewidth=2)
        axes.text(max(value, target) * 1.05, index, f"{value:.2f}x", va="center", fontsize=8)
    axes.set_yticks(range(len(points)), [p[0] for p in points], fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("ratio (black line: target; green: met, red: not met)")
    axes.set_title("Benchmark ratios, measured side by side in one run")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def concurrency_chart(series: dict[str, dict[int, float]], path: Path) -> None:
    """Requests per second against concurrency, a line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for variant, levels in series.items():
        points = sorted(levels.items())
        style = "--" if "Redis" in variant else "-"
        axes.plot([c for c, _ in points], [r for _, r in points], style, marker="o", label=variant)
    axes.set_xscale("log", base=2)
    levels = sorted({c for levels in series.values() for c in levels})
    axes.set_xticks(levels, [str(c) for c in levels])
    axes.set_ylim(bottom=0)
    axes.set_xlabel("concurrent connections (wrk)")
    axes.set_ylabel("requests per second (median of the rounds)")
    axes.set_title("GET /api/issues?limit=100 over HTTP, gunicorn as served, one machine")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _profile_section(rows: list[Row]) -> list[str]:
    profiled = next((row for row in rows if row.profile), None)
    if profiled is None:
        return []
    total = sum(profiled.profile.values())
    return [
        "## Where a request's time goes under load",
        "",
        f"{profiled.measure}: {profiled.detail.rsplit('; ', 1)[-1]}. Categories of "
        "`bench/profile.py`: each sample goes to the innermost frame's category (a cache read "
        "made while authenticating counts as cache); the rest by the view, the middleware, "
        "Django's handler or the server around it.",
        "",
        "| Category | CPU per request | Share |",
        "| --- | --- | --- |",
        *[f"| {name} | {ms:.2f} ms | {ms / total:.0%} |" for name, ms in profiled.profile.items()],
        f"| all | {total:.2f} ms | 100% |",
        "",
    ]


def markdown(rows: list[Row], settings: Settings, seconds: float) -> str:
    """docs/benchmarks.md."""
    sizes = settings.sizes
    counts = sizes.client_issue_counts
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench`); do not edit by hand.",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the run took {seconds:.0f} s.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine().items()],
        "",
        "## Data set",
        "",
        f"- {sizes.issues:,} issues over {sizes.clients} clients "
        f"({counts[0]:,} for the big client, {counts[1]:,} and {counts[2]:,} for two small ones), "
        f"{sizes.embedded_share:.0%} with an embedding; 2% soft-deleted",
        f"- {sizes.pull_requests:,} pull requests, {sizes.vectors:,} with an embedding "
        "(the similarity search set)",
        f"- {sizes.projects_per_client} projects per client; seed {sizes.seed}",
        f"- medians of {settings.repeats} runs ({settings.repeats * LIST_REPEATS_FACTOR} for "
        f"the list measures (a) and (b)) after {settings.warmup} warm-up runs, the two variants "
        "of each ratio interleaved (A B A B ...) in the same run",
        f"- throughput (f): wrk for {settings.load_seconds:g} s per run at concurrency "
        f"{', '.join(map(str, settings.concurrency))}, {settings.rounds} rounds, the variants in a "
        "rotated order each round; medians, spread (lowest-highest round) in the detail",
        "",
        "## Results",
        "",
        "| Measure | Figure | Target | Verdict | Detail |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {row.measure} | {row.figure} | {row.target} | {_verdict(row)} | {row.detail} |"
            for row in rows
        ],
        "",
        "![ratios against targets](benchmarks.png)",
        "",
        *(
            [
                "## Throughput against concurrency",
                "",
                CONCURRENCY_TEXT,
                "",
                "![throughput against concurrency](benchmarks-concurrency.png)",
                "",
            ]
            if any(row.series for row in rows)
            else []
        ),
        *_profile_section(rows),
    ]
    return "\n".join(lines)


CONCURRENCY_TEXT = (
    "One gunicorn per cache setting, as `make run` serves the service (`gunicorn.conf.py`: "
    "`GUNICORN_WORKERS` sync workers, the production settings, the request log on in JSON), "
    "serves the endpoint, the floor (`bench/floor.py`: the same page query with psycopg and "
    "orjson, no framework) and plain DRF (`bench/baseline.py`) from the same workers. `wrk` (C, "
    "one thread) keeps the connections busy; sync workers close each connection after its answer, "
    "so every request opens one. The machine's 2 cores are shared by the load generator, the "
    "workers and PostgreSQL: figures on other hardware differ, the ratios much less."
)


def write(rows: list[Row], settings: Settings, seconds: float) -> None:
    """Print the table and write the Markdown page and the charts."""
    print(table(rows))
    DOCS.mkdir(exist_ok=True)
    (DOCS / "benchmarks.md").write_text(markdown(rows, settings, seconds))
    chart(rows, DOCS / "benchmarks.png")
    series = next((row.series for row in rows if row.series), None)
    if series:
        concurrency_chart(series, DOCS / "benchmarks-concurrency.png")
    print(f"\nwrote {DOCS / 'benchmarks.md'} and the charts in {DOCS}")
