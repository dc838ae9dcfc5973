"""Bodies sent without Content-Length (``Transfer-Encoding: chunked``), through the WSGI entry
point gunicorn serves: read like any other body, within the same limit.
"""

from __future__ import annotations

import io
import json

import pytest

from config.wsgi import application
from issues.models import Issue
from users.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def serve(
    method: str, path: str, body: bytes, token: str, *, stream=None, **headers: str
) -> tuple[int, dict]:
    """One request through ``config.wsgi.application``, as gunicorn hands a chunked body over:
    decoded in ``wsgi.input``, with no CONTENT_LENGTH."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": stream or io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        **headers,
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])

    content = b"".join(application(environ, start_response))
    return started["status"], json.loads(content) if content else {}


def test_a_chunked_body_is_read(user_a):
    _, key = ApiToken.issue(user=user_a)
    status, body = serve("POST", "/api/issues", b'{"key": "CH-1", "summary": "chunked"}', key)
    assert status == 201, body
    assert Issue.objects.get(pk=body["id"]).summary == "chunked"
    status, body = serve("POST", "/api/issues", b'{"key": ', key)
    assert status == 400 and "JSON parse error" in body["detail"]


def test_a_chunked_body_past_the_limit_is_413_before_it_is_read(user_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, key = ApiToken.issue(user=user_a)
    huge = b'{"key": "CH-2", "summary": "' + b"x" * 30_000_000 + b'"}'
    status, body = serve("POST", "/api/issues", huge, key)
    assert status == 413
    assert "1000" in body["detail"]
    assert not Issue.objects.filter(key="CH-2").exists()


class MalformedChunks(io.RawIOBase):
    """What the server's chunked reader does on a bad chunk size or a missing terminator."""

    def read(self, size=-1):
        raise OSError("Invalid chunk size")


def test_malformed_chunking_is_a_400_not_a_dropped_connection(user_a):
    _, key = ApiToken.issue(user=user_a)
    status, body = serve("POST", "/api/issues", b"", key, stream=MalformedChunks())
    assert status == 400
    assert "malformed chunked body" in body["detail"]


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate", "zstd", "gzip, chunked"])
def test_a_compressed_body_is_a_415_not_misread(user_a, encoding):
    _, key = ApiToken.issue(user=user_a)
    status, body = serve(
        "POST", "/api/issues", b'{"key": "CE-1", "summary": "x"}', key,
        HTTP_CONTENT_ENCODING=encoding,
    )  # fmt: skip
    assert status == 415 and "Content-Encoding" in body["detail"]
    assert not Issue.objects.filter(key="CE-1").exists()
