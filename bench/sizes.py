"""Benchmark sizes and repetitions, from ``BENCH_*`` environment variables.

``BENCH_SCALE`` multiplies every row count: the default (1) loads 200,000 issues (2-3 minutes on
2 cores, once: later runs reuse the data set) and measures for about 5 minutes;
``make bench-quick`` (``BENCH_SCALE=0.05``, fewer repetitions, its own database) is a smoke run
of about two minutes.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw.strip() else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def _levels(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Concurrency levels; 1 and 8 always among them (the targets are set there)."""
    raw = os.environ.get(name, "")
    try:
        levels = {int(part) for part in raw.split(",") if part.strip()} if raw.strip() else set()
    except ValueError:
        raise SystemExit(f"{name} must be numbers separated by commas, got {raw!r}") from None
    if any(level < 1 or level > 1024 for level in levels):
        raise SystemExit(f"{name} must be between 1 and 1024, got {raw!r}")
    return tuple(sorted((levels or set(default)) | {1, 8}))


@dataclass(frozen=True)
class Sizes:
    """What the data set holds."""

    clients: int
    issues: int
    embedded_share: float
    pull_requests: int
    vectors: int
    projects_per_client: int
    seed: int

    @property
    def client_issue_counts(self) -> list[int]:
        """Issues per client: one holds half, one 1/20 and one 1/200 of them, the rest share."""
        big, tenth, hundredth = self.issues // 2, self.issues // 20, self.issues // 200
        rest = self.issues - big - tenth - hundredth
        others = self.clients - 3
        return [big, tenth, hundredth] + [
            rest // others + (1 if i < rest % others else 0) for i in range(others)
        ]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """How the measurements run."""

    sizes: Sizes
    repeats: int
    warmup: int
    load_seconds: float
    concurrency: tuple[int, ...]
    rounds: int
    port: int
    reload: bool


def from_environment() -> Settings:
    """Read the ``BENCH_*`` variables (see the README's Benchmarks section)."""
    scale = _number("BENCH_SCALE", 1.0)
    clients = int(_number("BENCH_CLIENTS", 10))
    if clients < 4:
        raise SystemExit("BENCH_CLIENTS must be at least 4")
    issues = int(_number("BENCH_ISSUES", 200_000 * scale))
    pull_requests = int(_number("BENCH_PULL_REQUESTS", 200_000 * scale))
    sizes = Sizes(
        clients=clients,
        issues=max(issues, 2_000),
        embedded_share=_number("BENCH_EMBEDDED_SHARE", 0.2),
        pull_requests=max(pull_requests, 2_000),
        vectors=min(int(_number("BENCH_VECTORS", 100_000 * scale)), max(pull_requests, 2_000)),
        projects_per_client=int(_number("BENCH_PROJECTS_PER_CLIENT", 50)),
        seed=int(_number("BENCH_SEED", 7)),
    )
    return Settings(
        sizes=sizes,
        repeats=int(_number("BENCH_REPEATS", 60)),
        warmup=int(_number("BENCH_WARMUP", 5)),
        load_seconds=_number("BENCH_LOAD_SECONDS", 3),
        concurrency=_levels("BENCH_CONCURRENCY", (1, 8, 32)),
        rounds=max(1, int(_number("BENCH_ROUNDS", 5))),
        port=int(_number("BENCH_PORT", 8799)),
        reload=os.environ.get("BENCH_RELOAD", "") not in ("", "0", "false"),
    )
