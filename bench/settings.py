"""Settings of the benchmark: the project's own, pointed at the benchmark database.

Every alias (primary, standbys, ML sessions) reads ``BENCH_DATABASE`` (default
``analytics_bench``) on the same servers, so the development database is never touched.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, DATABASES, EMBEDDED_DB_DIR, LOGGING, env

BENCH_DATABASE = env.str("BENCH_DATABASE", default="analytics_bench")
for _alias in DATABASES:
    DATABASES[_alias]["NAME"] = BENCH_DATABASE

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
CACHES = {
    **CACHES,
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(EMBEDDED_DB_DIR / "cache-bench"),
    },
}
# Measurements, not request logs.
LOGGING = {
    **LOGGING,
    "root": {**LOGGING["root"], "level": "WARNING"},
    "loggers": {
        **LOGGING["loggers"],
        "health.request_log": {**LOGGING["loggers"]["health.request_log"], "level": "WARNING"},
    },
}
