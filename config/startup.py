"""Loading the settings where a server starts: a configuration error is one line, then exit.

``manage.py`` does the same for commands. Under gunicorn, ``gunicorn.conf.py`` loads the settings
in the master, before any worker starts; a worker that still meets an error (gunicorn started
without that file) exits with gunicorn's "application failed to load" status, so that gunicorn
stops instead of starting new workers that would fail the same way.
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured

DEFAULT_SETTINGS = "config.settings.production"
# gunicorn's arbiter stops when a worker exits with this status (gunicorn.arbiter.APP_LOAD_ERROR).
APP_LOAD_ERROR = 4


def configuration_error(error: ImproperlyConfigured) -> None:
    sys.stderr.write(f"configuration error: {error}\n")
    sys.stderr.flush()
    sys.exit(APP_LOAD_ERROR)


def load_settings():
    """The settings (production unless ``DJANGO_SETTINGS_MODULE`` says otherwise), or exit."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018  (reading one evaluates the settings module)
    except ImproperlyConfigured as error:
        configuration_error(error)
    return settings


def application(make):
    """``make()`` (Django's WSGI or ASGI handler) with the settings checked first."""
    load_settings()
    try:
        return make()
    except ImproperlyConfigured as error:
        configuration_error(error)
