"""Where a request's time goes under load: ``py-spy`` samples every worker of a server while
``wrk`` loads it, and each sample is put in one category by the frames on its stack.

A sample is attributed leaf first: the innermost frame that belongs to a category names it (a
cache read made by authentication counts as cache). Samples with no such frame count as the
view's framework code (Django REST framework, the view) when the view is on their stack, else as
the middleware, else as Django's request handling, else as the server (gunicorn: accepting,
parsing, writing). Samples are CPU time (py-spy leaves out threads that wait), so the shares are of the CPU a
worker spends; the figures are per request.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
RATE = 250  # samples per second and worker


def _in(*places: str) -> re.Pattern:
    """Frames of these files or folders (py-spy names them from the package or project root)."""
    return re.compile(r"\((?:[^()]*/)?(?:" + "|".join(re.escape(p) for p in places) + ")")


# Tried from the innermost frame out: the first category one of its frames is in.
CATEGORIES = [
    ("logging and metrics", _in("logging/", "prometheus_client/", "health/request_log.py",
                                "core/logs.py", "core/metrics.py")),
    ("shared cache (read-your-writes pin, token epoch)", _in(
        "django/core/cache/", "core/shared_cache.py", "core/redis_cache.py", "redis/")),
    ("rate limiting", _in("core/api/throttling.py", "rest_framework/throttling.py")),
    ("ETag", _in("django/utils/cache.py")),
    ("rendering", _in("core/api/renderers.py", "rest_framework/renderers.py",
                      "django/template/response.py")),
    ("query (psycopg, database wrappers)", _in(
        "psycopg/", "core/db/failover.py", "core/db/deadline.py", "core/db/binary_reads.py",
        "django/db/backends/", "django/db/utils.py")),
    ("authentication", _in("users/authentication.py", "rest_framework/authentication.py",
                           "users/middleware.py", "django/contrib/auth/")),
    ("routing (URLs, databases)", _in("django/urls/", "core/db/router.py", "core/db/state.py",
                                      "core/db/middleware.py", "core/db/replicas.py")),
    ("rows (page query SQL, row dicts)", _in("core/api/rows.py", "core/db/query_shape.py")),
]  # fmt: skip
# Frames that wrap everything below them (a middleware's call, DRF's checks before the view):
# never a sample's category themselves.
WRAPPER = re.compile(
    r"^(?:\w*Middleware\w*\.(?:__call__|process_\w+)|MiddlewareMixin\.__call__|"
    r"convert_exception_to_response\.)"
)
CHECKS = re.compile(r"^\w+\.initial ")
# The ETag's digest is a C call made from the middleware's own frame.
ETAG = re.compile(r"^ConditionalGetMiddleware\.process_response ")
# Samples in none of those: the first of these whose frame is on the stack.
FALLBACKS = [
    ("view and framework (DRF, ORM, pagination, validation)", re.compile(r"^APIView\.dispatch ")),
    ("middleware", WRAPPER),
    ("Django request and response", re.compile(r"^WSGIHandler\.__call__ ")),
]
SERVER = "server (gunicorn: accept, parse, write; the floor's own code)"


def categorize(frames: list[str]) -> str:
    """The category of one sample (``frames``: outermost first)."""
    for frame in reversed(frames):
        if ETAG.match(frame):
            return "ETag"
        if WRAPPER.match(frame) or CHECKS.match(frame):
            continue
        for name, pattern in CATEGORIES:
            if pattern.search(frame):
                return name
    for name, pattern in FALLBACKS:
        if any(pattern.search(frame) for frame in frames):
            return name
    return SERVER


@dataclass
class Profile:
    """Milliseconds of worker CPU per request, by category, and the samples behind them."""

    per_request_ms: dict[str, float]
    samples: int

    @property
    def total_ms(self) -> float:
        return sum(self.per_request_ms.values())


def _sampler(pid: int, seconds: int, output: Path) -> subprocess.Popen:
    command = [PY_SPY, "record", "--pid", str(pid), "--duration", str(seconds),
               "--rate", str(RATE), "--format", "raw", "--nonblocking", "--output", str(output)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def record(worker_pids: list[int], seconds: int, load) -> tuple[Profile, object]:
    """Sample ``worker_pids`` while ``load()`` runs for ``seconds`` (it returns a LoadResult);
    the samplers start first and stop after it (idle workers give no samples)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    try:
        samplers = [_sampler(pid, seconds + 2, folder / f"{pid}.txt") for pid in worker_pids]
        time.sleep(0.5)  # py-spy attached
        result = load()
        for sampler in samplers:
            sampler.wait(timeout=seconds + 60)
        counts: Counter[str] = Counter()
        for path in folder.glob("*.txt"):
            for line in path.read_text().splitlines():
                stack, _, number = line.rpartition(" ")
                if stack and number.isdigit():
                    counts[categorize(stack.split(";"))] += int(number)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    samples = sum(counts.values())
    if not samples or not result.requests:
        raise RuntimeError("py-spy recorded no samples (is ptrace allowed here?)")
    # The load runs for the whole sampling window: requests per sampled second.
    per_request = {
        name: count / RATE * 1000 / result.requests for name, count in counts.most_common()
    }
    return Profile(per_request, samples), result
