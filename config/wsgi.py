"""WSGI entry point (gunicorn config.wsgi): production settings unless DJANGO_SETTINGS_MODULE
names others (``make run`` names the development ones); a configuration error is one line.

Django reads a request body only as far as ``Content-Length`` says. A body sent with
``Transfer-Encoding: chunked`` has none, so Django would read it as empty (and a 30 MB body
would be answered "key required"). ``ChunkedBodies`` reads such a body first, up to
``DATA_UPLOAD_MAX_MEMORY_SIZE``, and hands it to Django with its length, like any other body. A
body past the limit (one byte more is enough to know, the rest is never read) or malformed
chunking is marked for ``core.middleware.RequestSizeLimitMiddleware``, which answers 413 or 400
through Django, so the answer is JSON and logged like any other.
"""

import io

from config import startup

settings = startup.load_settings()  # production unless DJANGO_SETTINGS_MODULE says otherwise

from core.handlers import get_wsgi_application  # noqa: E402
from core.middleware import BODY_PROBLEM, TOO_LARGE  # noqa: E402


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
        environ = dict(environ)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            body = stream.read(limit + 1) if limit is not None else stream.read()
        except (OSError, ValueError) as error:
            # The server could not decode the chunking (a bad chunk size, a missing terminator).
            environ[BODY_PROBLEM] = f"malformed chunked body ({type(error).__name__})"
            body = b""
        else:
            if limit is not None and len(body) > limit:
                environ[BODY_PROBLEM] = TOO_LARGE
                body = b""
        environ.update(CONTENT_LENGTH=str(len(body)), **{"wsgi.input": io.BytesIO(body)})
        return self.app(environ, start_response)


application = ChunkedBodies(startup.application(get_wsgi_application))
