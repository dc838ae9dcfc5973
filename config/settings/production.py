"""Production settings: DEBUG off, a real SECRET_KEY, HTTPS-only cookies and HSTS."""

import os

from django.core.exceptions import ImproperlyConfigured

from core.secret_key import weakness

# DEBUG is off unless set: the shared settings derive other defaults from it (the log format, the
# drain on SIGTERM, whether a missing SECRET_KEY may be made up).
os.environ.setdefault("DEBUG", "false")

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set (50+ random characters)")
if (_weakness := weakness(SECRET_KEY)) is not None:
    raise ImproperlyConfigured(f"SECRET_KEY {_weakness}: it must be random")

if not ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the service's host names")

# HTTPS everywhere; a TLS-terminating proxy sets X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load-balancer probes and Prometheus's scrapers speak plain HTTP to the instance itself.
SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics/?$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
