"""Django's request handlers with two middleware chains: one for the API, one for everything else.

The admin's pages need middleware an API request never uses: flash messages, WhiteNoise's static
files. Each adds its frames and a few microseconds to every request. Requests under
``API_PATH_PREFIX`` go through ``MIDDLEWARE`` without ``ADMIN_ONLY_MIDDLEWARE``
(``api_middleware()``, in the same order); every other request through ``MIDDLEWARE``.
(``CommonMiddleware`` stays in both: it gives answers their ``Content-Length``, without which
gunicorn sends a body in chunks.)

Django keeps one list of each middleware hook a view runs through (``process_view``,
``process_exception``, ``process_template_response``) for the whole handler, so a middleware left
off the API chain may not have any: ``load_middleware`` refuses one that does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import django
from django.conf import settings
from django.core.asgi import ASGIHandler
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

VIEW_HOOKS = ("process_view", "process_exception", "process_template_response")


@contextlib.contextmanager
def _middleware(names: list[str]) -> Iterator[None]:
    """``settings.MIDDLEWARE`` is ``names`` for the block (Django's loader reads it there)."""
    everything = settings.MIDDLEWARE
    settings.MIDDLEWARE = names
    try:
        yield
    finally:
        settings.MIDDLEWARE = everything


def api_middleware() -> list[str]:
    """``MIDDLEWARE`` without the admin-only entries; an entry with a view hook is refused."""
    for name in settings.ADMIN_ONLY_MIDDLEWARE:
        hooks = [hook for hook in VIEW_HOOKS if hasattr(import_string(name), hook)]
        if hooks:
            raise ImproperlyConfigured(
                f"ADMIN_ONLY_MIDDLEWARE: {name} has {', '.join(hooks)}, which Django would still "
                "run for API requests"
            )
    return [name for name in settings.MIDDLEWARE if name not in settings.ADMIN_ONLY_MIDDLEWARE]


class ApiChainMixin:
    """Build both chains; pick one per request by its path."""

    def load_middleware(self, is_async: bool = False) -> None:
        with _middleware(api_middleware()):
            super().load_middleware(is_async)
        api = self._middleware_chain
        super().load_middleware(is_async)
        everything = self._middleware_chain
        prefix = settings.API_PATH_PREFIX

        if is_async:

            async def chain(request):
                handler = api if request.path_info.startswith(prefix) else everything
                return await handler(request)

        else:

            def chain(request):
                handler = api if request.path_info.startswith(prefix) else everything
                return handler(request)

        self._middleware_chain = chain


class ApiWSGIHandler(ApiChainMixin, WSGIHandler):
    pass


class ApiASGIHandler(ApiChainMixin, ASGIHandler):
    pass


def get_wsgi_application() -> ApiWSGIHandler:
    """``django.core.wsgi.get_wsgi_application``, with the API's chain."""
    django.setup(set_prefix=False)
    return ApiWSGIHandler()


def get_asgi_application() -> ApiASGIHandler:
    """``django.core.asgi.get_asgi_application``, with the API's chain."""
    django.setup(set_prefix=False)
    return ApiASGIHandler()
