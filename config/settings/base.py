"""Settings shared by every environment; every environment variable is read here, once.

The README lists each variable with its default.
"""

import ipaddress
import math
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.db.config import build_databases
from core.development_key import development_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent


# The largest number any setting takes (PostgreSQL's own limit for its timeouts, in ms).
NUMBER_LIMIT = 2**31 - 1


class Env(environ.Env):
    """``environ.Env`` whose numbers are checked: a malformed one, or one out of its range (0 up
    to ``NUMBER_LIMIT`` unless the setting says otherwise), stops start-up with one line naming
    the variable (every number here is a size, a count or a duration).
    """

    def int(self, var, default=environ.Env.NOTSET, *, low=0, high=NUMBER_LIMIT):
        return self._number(var, int, default, "a whole number", low, high)

    def float(self, var, default=environ.Env.NOTSET, *, low=0, high=NUMBER_LIMIT):
        return self._number(var, float, default, "a number", low, high)

    def bool(self, var, default=environ.Env.NOTSET):
        """true/false, 1/0, yes/no, on/off (any case); anything else stops start-up (django-environ
        would read "perhaps" as false, and turn a security setting off)."""
        raw = self.str(var, default=None)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in ("true", "1", "yes", "on"):
            return True
        if value in ("false", "0", "no", "off"):
            return False
        raise ImproperlyConfigured(f"{var} must be true or false")

    def rate(self, var, default):
        """A rate limit, ``<n>/second|minute|hour|day`` (empty: none)."""
        value = self.str(var, default=default).strip()
        if value and not re.fullmatch(r"[0-9]{1,9}/(second|minute|hour|day|[smhd])", value):
            raise ImproperlyConfigured(f"{var} must be <n>/second|minute|hour|day, or empty")
        return value

    def networks(self, var) -> tuple:
        """A comma-separated list of IP addresses or networks (an address is a /32 or /128)."""
        networks = []
        for value in self.list(var, default=[]):
            try:
                networks.append(ipaddress.ip_network(value.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"{var} must list IP addresses or networks (not {value.strip()!r})"
                ) from None
        return tuple(networks)

    def _number(self, var, cast, default, kind, low, high):
        expected = f"{var} must be {kind} from {low:g} to {high:g}"
        raw = self.str(var, default=None)
        if raw is None:
            return default
        try:
            # Python's own parsing: django-environ's drops what is not a digit ("5s" is 5).
            value = cast(raw.strip())
        except ValueError:
            raise ImproperlyConfigured(expected) from None
        if not math.isfinite(value) or not low <= value <= high:
            raise ImproperlyConfigured(expected)
        return value


env = Env()

DEBUG = env.bool("DEBUG", default=True)
EMBEDDED_DB_DIR = Path(env.str("EMBEDDED_DB_DIR", default=str(BASE_DIR / ".data"))).resolve()
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Never a key written in the code: this checkout's own (core/development_key.py).
    SECRET_KEY = development_secret_key(EMBEDDED_DB_DIR)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# Headers a browser client may read: page links and the caller's rate limit.
CORS_EXPOSE_HEADERS = ["Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
# Every log line as one JSON object ("json", the default unless DEBUG is on) or as text.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")

# ---- databases --------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    EMBEDDED_DB = None
    REPLICA_DATABASE_URLS = env.list("REPLICA_DATABASE_URLS", default=[])
else:
    # Development tooling, loaded only when it is used (core/embedded).
    from core.embedded.postgres import EmbeddedPostgres

    EMBEDDED_DB = EmbeddedPostgres.for_data_dir(EMBEDDED_DB_DIR)
    DATABASE_URL = EMBEDDED_DB.url(EMBEDDED_DB.primary)
    REPLICA_DATABASE_URLS = env.list(
        "REPLICA_DATABASE_URLS", default=[EMBEDDED_DB.url(EMBEDDED_DB.standby)]
    )

# "session": direct connections (settings sent at connection start); "transaction": behind
# PgBouncer in transaction mode (settings are the roles' and the standbys' own; see README).
DATABASE_POOL_MODE = env.str("DATABASE_POOL_MODE", default="session")
# A query whose server shows no sign of life for this long is cut off (a read is re-run on another
# server, a write answers 503); a slow query on a live server is left to statement_timeout.
REPLICA_READ_TIMEOUT = env.float("REPLICA_READ_TIMEOUT", default=1.0)
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=30_000, low=1)
if REPLICA_READ_TIMEOUT <= 0:
    raise ImproperlyConfigured("REPLICA_READ_TIMEOUT must be a number of seconds above 0")
_layout = build_databases(
    primary_url=DATABASE_URL,
    replica_urls=[url for url in REPLICA_DATABASE_URLS if url.strip()],
    conn_max_age=env.int("CONN_MAX_AGE", default=60),
    connect_timeout=env.int("DB_CONNECT_TIMEOUT", default=3),
    statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS,
    replica_read_timeout=REPLICA_READ_TIMEOUT,
    pool_mode=DATABASE_POOL_MODE,
    ml_url=env.str("ML_DATABASE_URL", default=""),
    ml_user=env.str("ML_DATABASE_USER", default=""),
    ml_password=env.str("ML_DATABASE_PASSWORD", default=""),
)
DATABASES = _layout.databases
DATABASE_STANDBYS = _layout.standbys
DATABASE_SESSION_SETTINGS = _layout.session_settings
REPLICA_ALIASES = _layout.replica_aliases
DATABASE_ROUTERS = ["core.db.router.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Read-your-writes: how long a user's last write position is remembered (its reads go to a
# standby that has replayed it, else the primary).
REPLICA_PIN_SECONDS = env.float("REPLICA_PIN_SECONDS", default=60.0)
# A standby further behind than this is skipped.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
# A server that failed is tried again (in the background) this often until it answers.
REPLICA_RETRY_SECONDS = env.float("REPLICA_RETRY_SECONDS", default=2.0)

# Similarity search: HNSW candidates per scan step, and the scan's upper bound when a filter
# (the caller's client) discards most candidates. See docs/benchmarks.md for the measurements.
VECTOR_EF_SEARCH = env.int("VECTOR_EF_SEARCH", default=200)
VECTOR_MAX_SCAN_TUPLES = env.int("VECTOR_MAX_SCAN_TUPLES", default=20_000)

# The shared cache (read-your-writes positions, the token epoch, shared rate-limit counters):
# calls give up after CACHE_SOCKET_TIMEOUT seconds, and a cache that failed is left alone for
# CACHE_RETRY_SECONDS (core/redis_cache.py).
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.25)
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)
REDIS_SCHEMES = ("redis", "rediss", "valkey", "valkeys")
SHARED_REDIS_CACHE = "core.redis_cache.SharedRedisCache"


def cache_config(variable: str, default: str) -> dict:
    url = env.str(variable, default=default)
    try:
        config = env.cache_url_config(url)
    except (environ.ImproperlyConfigured, KeyError, ValueError) as exc:
        raise ImproperlyConfigured(f"{variable} is malformed ({exc})") from None
    if not config:
        raise ImproperlyConfigured(f"{variable} is empty")
    if url.split("://", 1)[0] in REDIS_SCHEMES:
        config["BACKEND"] = SHARED_REDIS_CACHE
    return config


CACHE_URL = env.str("CACHE_URL", default=f"filecache://{EMBEDDED_DB_DIR / 'cache'}")
CACHES = {
    "default": cache_config("CACHE_URL", CACHE_URL),
    # Rate-limit counters: in the shared cache when it is Redis (counted across processes and
    # instances, atomically), else per process (cheap on every request).
    "throttle": cache_config(
        "THROTTLE_CACHE_URL",
        CACHE_URL
        if CACHE_URL.split("://", 1)[0] in REDIS_SCHEMES
        else "locmemcache://throttle?max_entries=100000",
    ),
}
if CACHES["throttle"]["BACKEND"] == SHARED_REDIS_CACHE:
    CACHES["throttle"]["KEY_PREFIX"] = "throttle"

# ---- applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "pgtrigger",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "users",
    "projects",
    "issues",
    "pullrequests",
    "mlmonitoring",
    "health",
    "demo",
]

MIDDLEWARE = [
    # First: every answer is logged, those of the guards below included.
    "health.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # ETag on every GET (items name their version: core.api.conditional); If-None-Match: 304.
    "core.middleware.ConditionalGetMiddleware",
    # Inside it: a compressed answer's ETag is that of what is sent.
    "core.middleware.CompressionMiddleware",
    # Serves the admin's and the API docs' static files under gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "core.middleware.RateLimitHeadersMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "users.middleware.AuthenticationMiddleware",
    "core.db.middleware.DatabaseRoutingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Requests under API_PATH_PREFIX skip these (core.handlers): the admin's pages need them, an API
# request never does. None may have a view hook (process_view...): the handler refuses one.
API_PATH_PREFIX = "/api/"
ADMIN_ONLY_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "core.api.exceptions.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "users.User"
# auth.W004: the login email is unique per client, not globally (users/models.py says why); the
# backend (users.backends) logs in the one account whose password matches.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = ["users.backends.PrimaryModelBackend"]
# Sessions live in a signed cookie: an operator who just logged in is never logged out
# by a standby that has not replayed the session row yet.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
APPEND_SLASH = False
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
# Rate limits ("<n>/second|minute|hour|day"; empty disables), counted in the shared cache.
API_THROTTLE_ANON = env.rate("API_THROTTLE_ANON", default="120/minute")
API_THROTTLE_USER = env.rate("API_THROTTLE_USER", default="6000/minute")
# Reverse proxies in front of the service (anonymous rate limits count per client address).
API_TRUSTED_PROXIES = env.int("API_TRUSTED_PROXIES", default=0)
# A verified API token is remembered by each process for this long (0: look it up every time).
API_TOKEN_CACHE_SECONDS = env.float("API_TOKEN_CACHE_SECONDS", default=5.0)
# POST /api/auth/token: failed attempts allowed per account (the address tried) and per caller
# address, in the same grammar as the rate limits; past either, every attempt fails alike.
API_LOGIN_FAILURES_PER_ACCOUNT = env.rate("API_LOGIN_FAILURES_PER_ACCOUNT", default="10/hour")
API_LOGIN_FAILURES_PER_ADDRESS = env.rate("API_LOGIN_FAILURES_PER_ADDRESS", default="100/hour")
# How long an Idempotency-Key's answer is kept for a retried POST (core.api.idempotency).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
# Tokens a user may hold at once through POST /api/auth/token.
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=100)

# ---- operations --------------------------------------------------------------------------
# /metrics (core.metrics): off unless a bearer token or the scrapers' networks are set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()  # a secret file's newline too
if METRICS_TOKEN and not re.fullmatch(r"[!-~]{16,}", METRICS_TOKEN):
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be 16 or more printable ASCII characters, without spaces"
    )
METRICS_ALLOWED_NETWORKS = env.networks("METRICS_ALLOWED_NETWORKS")
if METRICS_ALLOWED_NETWORKS and not METRICS_TOKEN and API_TRUSTED_PROXIES:
    # Behind proxies the connection's address is a proxy's: anyone it serves would pass.
    raise ImproperlyConfigured(
        "METRICS_ALLOWED_NETWORKS cannot tell scrapers from the proxies in front "
        "(API_TRUSTED_PROXIES is set): set METRICS_TOKEN too"
    )
# gunicorn (gunicorn.conf.py): workers (gunicorn itself reads WEB_CONCURRENCY, unchecked: not
# used here), and on SIGTERM how long /health/ready answers 503 while
# requests are still served (the drain), then how long workers get to finish their requests.
GUNICORN_WORKERS = env.int("GUNICORN_WORKERS", default=2, low=1, high=256)
DRAIN_SECONDS = env.float("DRAIN_SECONDS", default=0.0 if DEBUG else 10.0, high=3600)
GRACEFUL_TIMEOUT = env.int("GRACEFUL_TIMEOUT", default=15, high=3600)
# migrate: how long a migration waits for a table lock before it gives up and is retried
# (core/management/commands/migrate.py), and how many times.
MIGRATION_LOCK_TIMEOUT_MS = env.int("MIGRATION_LOCK_TIMEOUT_MS", default=5_000, low=1)
MIGRATION_LOCK_RETRIES = env.int("MIGRATION_LOCK_RETRIES", default=10, high=100)

# ---- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API speaks JSON only (the browsable API's raw-data form included).
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.api.renderers.OrjsonRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.JsonFirstNegotiation",
    # Reverse proxies in front of the service: X-Forwarded-For is believed that deep and no
    # deeper (0: the connection's own address), so nobody picks their own rate-limit identity.
    "NUM_PROXIES": API_TRUSTED_PROXIES,
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonymousThrottle",
        "core.api.throttling.AuthenticatedThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Engineering analytics API",
    "DESCRIPTION": "Issues, pull requests, projects, users and ML monitoring, per client.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets sharing a field name ("status") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "PullRequestStatusEnum": "pullrequests.models.PullRequestStatus",
        "BulkRowStatusEnum": "core.api.bulk.STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
        "core.api.schema.add_item_links",
        "core.api.schema.strict_request_bodies",
        "core.api.schema.add_response_headers",
        "core.api.schema.optional_ml_fields",
        "health.schema.add_health_endpoints",
    ],
}

# ---- logging ----------------------------------------------------------------------------
# One stream, one format (core.logs): every logger writes through the same handler, Django's
# included (its own console handler is dropped), and gunicorn's through core.logs.GunicornLogger.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "text": {"()": "core.logs.TextFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default configuration gives "django" a console handler of its own (shown
        # with DEBUG on): its lines go to the root's handler instead, in the service's format.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # A client's error (4xx) is the request log's line, not three lines and a traceback;
        # server errors are still logged here, with their traceback.
        "django.request": {"level": "ERROR"},
        # A refused CSRF check is a 403 in the request log; no second line.
        "django.security.csrf": {"level": "ERROR"},
        # So is a Host outside ALLOWED_HOSTS (a 400): no traceback anyone could cause at will.
        "django.security.DisallowedHost": {"level": "CRITICAL"},
        "health.request_log": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
