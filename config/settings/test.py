"""Settings for the test suite: the same databases (primary + real standby), faster hashing."""

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, EMBEDDED_DB_DIR, cache_config

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
CACHES = {
    **CACHES,
    "default": cache_config("TEST_CACHE_URL", f"filecache://{EMBEDDED_DB_DIR / 'cache-test'}"),
}

# Standbys and ML sessions read the test database that is created on the primary and reaches
# them through replication (see conftest.py). Marking them as mirrors keeps Django from
# creating or flushing a database on them.
for _alias in DATABASES:
    if _alias != "default":
        DATABASES[_alias]["TEST"] = {"MIRROR": "default"}

# The suite makes many requests per user and per address; the limits have their own tests.
API_THROTTLE_ANON = "100000/minute"
API_THROTTLE_USER = "100000/minute"
API_LOGIN_FAILURES_PER_ADDRESS = "100000/minute"
