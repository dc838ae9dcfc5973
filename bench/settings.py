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
# Rate limiting stays on (its cost is part of every figure), with a limit no measurement reaches:
# the load generator asks for tens of thousands of pages a minute with one token.
API_THROTTLE_USER = env.str("API_THROTTLE_USER", default="10000000/minute")
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
