"""Loading the settings where a server starts: a configuration error is one line, then exit.

``manage.py`` does the same for commands. Under gunicorn, ``gunicorn.conf.py`` loads the settings
in the master, before any worker starts; a worker that still meets an error (gunicorn started
without that file) exits with gunicorn's "application failed to load" status, so that gunicorn
stops instead of starting new workers that would fail the same way.
"""

from __future__ import annotations

import gc
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


# The collector's first threshold for a serving process (CPython's default: 700). See tune_collector.
YOUNG_THRESHOLD = 20_000


def tune_collector() -> None:
    """Make the cyclic garbage collector cheap for a process that serves requests.

    Called by gunicorn in each worker once the application is loaded (``post_worker_init`` in
    ``gunicorn.conf.py``), not on import: a test run or a command keeps CPython's defaults.

    A list request allocates a few thousand container objects (rows, dicts, the response). With
    CPython's default thresholds, a young collection runs every 700 of them, so the objects of a
    request still in use are traversed several times and survive into the older generations,
    which are traversed again; a full collection traverses everything the imports left (about
    130,000 objects). Here the objects that exist once the application is loaded are moved out
    of the collector's sight (``gc.freeze()``: they live as long as the process), and young
    collections run every ``YOUNG_THRESHOLD`` allocations (a few requests), so a request's
    garbage mostly dies young. The older generations keep CPython's ratios (10 and 10): cyclic
    garbage that survived a young collection still goes within about a hundred young ones.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)


def application(make):
    """``make()`` (Django's WSGI or ASGI handler) with the settings checked first."""
    load_settings()
    try:
        return make()
    except ImproperlyConfigured as error:
        configuration_error(error)
