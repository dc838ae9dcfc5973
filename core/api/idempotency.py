"""``Idempotency-Key`` on the POSTs that write (creates and bulk upserts), as Stripe's API has it.

A client that sends a POST with ``Idempotency-Key: <key>`` and gets no answer (a timeout, a
dropped connection) sends it again with the same key: if the first one was written, the second
gets the first one's answer (its status and body, with ``Idempotent-Replayed: true``) and
nothing is written again; if it was not, the second one is the request.

- **Where the key lives.** In the database, beside the write, per client (``idempotency_keys``):
  it holds across instances and restarts. The key is claimed in the write's own transaction, so
  the answer is kept exactly when the write committed: there is no moment at which one exists
  without the other.
- **Concurrent retries.** Two requests with one key: the second one's claim waits on the unique
  index until the first one's transaction ends, then replays its answer (or, if it was rolled
  back, becomes the request itself).
- **Only writes are remembered.** A 2xx answer is kept; any other (a 400, a 409, a 503) writes
  nothing and leaves the key free for the corrected request.
- **Misuse.** The same key with another method, path, body or user is a 422 naming the header.
- **Lifetime.** ``IDEMPOTENCY_KEY_HOURS`` (24); an older key is free again. Expired keys are
  removed a hundred at a time by later keyed requests.
"""

from __future__ import annotations

import functools
import json
import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.utils.crypto import salted_hmac
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = ("Location", "ETag", "Last-Modified")
IDEMPOTENT = "honours_idempotency_key"

CLAIM = """
    INSERT INTO idempotency_keys (client_id, key, user_id, fingerprint, status, headers,
                                  created_at)
    VALUES (%(client)s, %(key)s, %(user)s, %(fingerprint)s, 0, '{}', now())  -- 0: running
    ON CONFLICT (client_id, key) DO UPDATE
        SET user_id = EXCLUDED.user_id, fingerprint = EXCLUDED.fingerprint, status = 0,
            body = NULL, headers = '{}', created_at = EXCLUDED.created_at
        WHERE idempotency_keys.created_at < now() - make_interval(hours => %(hours)s)
    RETURNING id
"""
STORED = """
    SELECT user_id, fingerprint, status, body, headers FROM idempotency_keys
    WHERE client_id = %(client)s AND key = %(key)s
"""
RECORD = "UPDATE idempotency_keys SET status = %s, body = %s, headers = %s WHERE id = %s"
PURGE = """
    DELETE FROM idempotency_keys WHERE id IN (
        SELECT id FROM idempotency_keys
        WHERE created_at < now() - make_interval(hours => %(hours)s)
        ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED)
"""


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        f"{HEADER}: this key was sent with another request (method, path, body or user); "
        "a new request needs a new key."
    )
    default_code = "idempotency_key_reused"


def requested_key(request) -> str | None:
    """The request's key (None: not given); a 400 naming the header when malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY.fullmatch(key):
        raise exceptions.ValidationError(
            {HEADER: ["Expected 1 to 255 visible ASCII characters (a UUID, say)."]}
        )
    return key


def fingerprint(request) -> str:
    """What makes two requests the same: method, path and query, and the body's JSON value
    (the same object sent with other spacing or key order is the same body), as an HMAC."""
    text = json.dumps(
        [request.method, request.get_full_path(), request.data],
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
        default=str,
    )
    # Keyed by SECRET_KEY: a body may hold a password, which a plain digest would let whoever
    # reads the table test guesses against.
    return salted_hmac("idempotency-key", text, algorithm="sha256").hexdigest()


def idempotent(handler):
    """Make a viewset's POST action honour ``Idempotency-Key`` (see the module's docstring)."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = requested_key(request)
        if key is None:
            return handler(view, request, *args, **kwargs)
        alias = router.db_for_write(IdempotencyKey)
        given = {
            "client": view.scope.client_id,
            "key": key,
            "user": request.user.pk,
            "fingerprint": fingerprint(request),
            "hours": settings.IDEMPOTENCY_KEY_HOURS,
        }
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute(CLAIM, given)
            claimed = cursor.fetchone()
            cursor.execute(PURGE, given)
            if claimed is None:
                cursor.execute(STORED, given)
                return _replay(given, *cursor.fetchone())
            response = handler(view, request, *args, **kwargs)
            if not status.is_success(response.status_code):
                # Nothing was written: the key stays free for the corrected request.
                transaction.set_rollback(True, using=alias)
                return response
            headers = {name: response[name] for name in KEPT_HEADERS if name in response}
            body = json.dumps(response.data, cls=DjangoJSONEncoder)
            cursor.execute(RECORD, [response.status_code, body, json.dumps(headers), claimed[0]])
            return response

    setattr(wrapper, IDEMPOTENT, True)  # the schema documents the header where it is honoured
    return wrapper


def _replay(given: dict, user: int, fingerprint: str, status_code: int, body, headers):
    # (Django has psycopg hand JSON columns over as text.)
    body, headers = (json.loads(v) if isinstance(v, str) else v for v in (body, headers))
    if user != given["user"] or fingerprint != given["fingerprint"]:
        raise KeyReused()
    response = Response(body, status=status_code, headers=headers)
    response[REPLAYED] = "true"
    return response
