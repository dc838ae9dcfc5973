"""Conditional requests: versions of items, ``ETag``/``Last-Modified``, and ``If-Match``.

An item's version is the transaction that last wrote it (``change_xid``, stamped by the database
on every write, ``core.changes``). Its strong ``ETag`` names that version and the representation
(with or without ML fields, all fields or ``?fields=``): ``"<id>.<change_xid>"`` and a suffix.
``If-None-Match`` on a ``GET`` answers 304 when it names the current ``ETag``
(``core.middleware.ConditionalGetMiddleware``, which also gives every other ``GET``, list
pages included, an ``ETag`` from its body: a SHA-256 digest). ``If-Match`` on ``PUT``, ``PATCH``
and ``DELETE`` is checked on the locked row: a version that is no longer current is a 412, so of
two editors who read the same version only the first one's change is applied.
"""

from __future__ import annotations

import hashlib
import re

from django.db import models
from django.utils.http import http_date
from rest_framework import exceptions, status

ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "If-Match: the item has changed since that version; read it again."
    default_code = "precondition_failed"


def version(row: models.Model) -> str:
    """``<id>.<change_xid>``: which version of which item."""
    return f"{row.pk}.{row.change_xid}"


def version_tag(row: models.Model, ml: bool, fields: tuple[str, ...] | None = None) -> str:
    """The strong ``ETag`` of ``row``'s current version, in one representation (with ML fields,
    ``.ml``; some fields only, ``.f`` and a digest of their names)."""
    suffix = ".ml" if ml else ""
    if fields is not None:
        suffix += ".f" + hashlib.sha256(",".join(fields).encode()).hexdigest()[:8]
    return f'"{version(row)}{suffix}"'


def versioned(response, row: models.Model, ml: bool, fields: tuple[str, ...] | None = None):
    """``response`` (of ``row``) with its ``ETag`` and ``Last-Modified``."""
    response["ETag"] = version_tag(row, ml, fields)
    response["Last-Modified"] = http_date(row.last_updated_at.timestamp())
    return response


def _strong_tags(header: str) -> list[str] | None:
    """The strong entity tags of an ``If-Match`` value (weak ones never match: RFC 9110's strong
    comparison), or None when the value is not a list of entity tags."""
    tags, position, found = [], 0, False
    while position < len(header):
        match = ENTITY_TAG.match(header, position)
        if match is None or match.end() == position:
            return None
        found = True
        if match[1] is None:
            tags.append(match[2])
        position = match.end()
    return tags if found else None


def check_if_match(request, row: models.Model) -> None:
    """A 412 unless ``If-Match`` (when given) is ``*`` or names the row's current version, in
    either representation. Weak tags never match (RFC 9110: strong comparison)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return
    tags = _strong_tags(header)
    if tags is None:
        raise exceptions.ValidationError(
            {"If-Match": ['Expected entity tags such as "12.345" (or *), comma-separated.']}
        )
    current = version(row)
    # Any representation of the current version: the same item as it is now.
    if not any(tag == current or tag.startswith(current + ".") for tag in tags):
        raise PreconditionFailed()
