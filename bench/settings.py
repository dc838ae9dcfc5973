"""Settings of the benchmark: the project's production settings, pointed at the benchmark database.

What users see is measured: DEBUG off, HTTPS (the load generator sends ``X-Forwarded-Proto:
https`` as a TLS-terminating proxy does), the request log on in JSON, rate limiting on, the
shared cache as ``CACHE_URL`` says (a file cache by default, in a folder of the benchmark's).
Every alias (primary, standbys, ML sessions) reads ``BENCH_DATABASE`` (default
``analytics_bench``) on the same servers, so the development database is never touched.

The log goes to ``BENCH_LOG`` (in the data folder, emptied at the start of each run) instead of the
terminal: the benchmark counts its lines to show that every request was logged.
"""

import os
import secrets
from pathlib import Path

# As config/settings/base.py finds it (the embedded servers' folder).
EMBEDDED_DB_DIR = Path(
    os.environ.get("EMBEDDED_DB_DIR") or Path(__file__).resolve().parent.parent / ".data"
).resolve()

# Set for the whole run before the production settings read them, so that the servers the
# benchmark starts (which inherit the environment) share them with the in-process measures.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("CACHE_URL", f"filecache://{EMBEDDED_DB_DIR / 'cache-bench'}")
os.environ.setdefault("BENCH_LOG", str(EMBEDDED_DB_DIR / "bench-requests.log"))

from config.settings.production import *  # noqa: E402, F403
from config.settings.production import DATABASES, LOGGING, env  # noqa: E402

BENCH_DATABASE = env.str("BENCH_DATABASE", default="analytics_bench")
for _alias in DATABASES:
    DATABASES[_alias]["NAME"] = BENCH_DATABASE

# Rate limiting stays on (its cost is part of every figure), with a limit no measurement reaches:
# the load generator asks for tens of thousands of pages a minute with one token.
API_THROTTLE_USER = env.str("API_THROTTLE_USER", default="10000000/minute")
ROOT_URLCONF = "bench.urls"
LOGGING = {
    **LOGGING,
    "handlers": {
        **LOGGING["handlers"],
        "console": {
            **LOGGING["handlers"]["console"],
            "class": "logging.FileHandler",
            "filename": os.environ["BENCH_LOG"],
        },
    },
}
