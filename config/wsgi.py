"""WSGI entry point (gunicorn config.wsgi).

Django reads a request body only as far as ``Content-Length`` says. A body sent with
``Transfer-Encoding: chunked`` has none, so Django would read it as empty (and a 30 MB body
would be answered "key required"). ``ChunkedBodies`` reads such a body first, up to
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (one byte more is a 413, before the rest is read), and hands it to
Django with its length, like any other body.
"""

import io
import json
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


class ChunkedBodies:
    """WSGI middleware: give a body without ``Content-Length`` its length (see the module)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if (
            environ.get("CONTENT_LENGTH")
            or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            return self.app(environ, start_response)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        stream = environ["wsgi.input"]
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            detail = f"Request body too large: more than {limit} bytes; the limit is {limit}."
            payload = json.dumps({"detail": detail}).encode()
            start_response(
                "413 Request Entity Too Large",
                [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
            )
            return [payload]
        environ = {**environ, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


application = ChunkedBodies(get_wsgi_application())
