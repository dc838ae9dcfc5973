"""Development settings (``make run``, ``manage.py``): the shared settings as they default.

``DEBUG`` is on unless ``DEBUG=false``, the key is this checkout's own (core/development_key.py)
and the databases are the embedded primary and standby unless ``DATABASE_URL`` is set. The WSGI
and ASGI entry points default to ``config.settings.production``: a server started without a
settings module never runs these.
"""

from .base import *  # noqa: F403
