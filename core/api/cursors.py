"""Opaque list cursors: keyset pagination over any ``ordering`` the list accepts.

A cursor holds the ordering values of the last row served, the position it reached (so the
envelope's ``offset`` stays true) and a fingerprint of the filters it was made for. The next page
is "the rows after these values" (``keyset_filter``), which an index serves as fast at the end of
a list as at its start, where ``OFFSET`` reads and discards every row before the page.

Ordering follows PostgreSQL's defaults: ascending puts NULLs last, descending puts them first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from rest_framework import exceptions

PARAMETER = "cursor"
SYNC_PARAMETER = "sync"
# Parameters that do not change which rows a list holds or in what order.
NOT_FINGERPRINTED = frozenset(
    {PARAMETER, SYNC_PARAMETER, "limit", "offset", "include_ml_fields", "fields", "format"}
)


def _invalid(reason: str, parameter: str = PARAMETER) -> exceptions.ValidationError:
    return exceptions.ValidationError({parameter: [reason]})


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after ``values`` (of ``ordering``), at ``position``."""

    ordering: tuple[str, ...]
    values: tuple
    position: int
    fingerprint: str


def query_fingerprint(query_params, *, listing: str) -> str:
    """A short digest of what decides a list's rows: which list of which client (``listing``)
    and the parameters (filters, ordering). A cursor made for another list is refused."""
    parameters = sorted(
        (name, value)
        for name, values in query_params.lists()
        if name not in NOT_FINGERPRINTED
        for value in values
    )
    items = [("", listing), *parameters]
    return hashlib.sha256(orjson.dumps(items)).hexdigest()[:12]


def cursor_encode(cursor: Cursor) -> str:
    """The opaque token for ``cursor`` (URL-safe base64 of a small JSON document)."""
    document = {
        "o": cursor.ordering,
        "v": cursor.values,
        "p": cursor.position,
        "f": cursor.fingerprint,
    }
    return base64.urlsafe_b64encode(orjson.dumps(document)).decode().rstrip("=")


def cursor_decode(
    token: str,
    *,
    model: type[models.Model],
    ordering: Sequence[str],
    fingerprint: str,
    parameter: str = PARAMETER,
) -> Cursor:
    """Read a token made for this list (same ordering and filters); a 400 naming ``parameter``
    (the query parameter that carried it) else."""
    malformed = f"Malformed {parameter} token: use the one a previous page gave."
    try:
        document = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        raw_ordering, raw_values = tuple(document["o"]), document["v"]
        position, token_fingerprint = document["p"], document["f"]
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise _invalid(malformed, parameter) from None
    if raw_ordering != tuple(ordering) or token_fingerprint != fingerprint:
        raise _invalid(
            f"This {parameter} token belongs to another listing (other filters or ordering); "
            f"start again with an empty {parameter} value.",
            parameter,
        )
    if (
        not isinstance(raw_values, list)
        or len(raw_values) != len(ordering)
        or not isinstance(position, int)
        or isinstance(position, bool)
        or not 0 <= position < 2**63
    ):
        raise _invalid(malformed, parameter)
    values = []
    for term, raw in zip(ordering, raw_values, strict=True):
        field = model._meta.get_field(term.lstrip("-"))
        # A key of an integer column is a JSON integer within 64 bits, nothing else.
        integer = isinstance(field, models.IntegerField | models.AutoField)
        if integer and raw is not None and (type(raw) is not int or not -(2**63) <= raw < 2**63):
            raise _invalid(malformed, parameter)
        try:
            values.append(None if raw is None else field.to_python(raw))
        except (DjangoValidationError, TypeError, ValueError):
            raise _invalid(malformed, parameter) from None
    return Cursor(tuple(ordering), tuple(values), position, fingerprint)


def json_value(value: object) -> object:
    """A key value as it travels in a token (datetimes as ISO 8601 text)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def keyset_filter(model: type[models.Model], cursor: Cursor) -> Q | None:
    """The rows after ``cursor`` in its ordering; None when no row can follow."""
    alternatives: list[Q] = []
    equal: dict[str, object] = {}
    for term, value in zip(cursor.ordering, cursor.values, strict=True):
        name, descending = term.lstrip("-"), term.startswith("-")
        nullable = model._meta.get_field(name).null
        if value is None:
            if descending:
                # NULLs come first in descending order: every non-NULL value follows.
                alternatives.append(Q(**equal, **{f"{name}__isnull": False}))
            equal[f"{name}__isnull"] = True
            continue
        after = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
        if nullable and not descending:
            after |= Q(**{f"{name}__isnull": True})
        alternatives.append(Q(**equal) & after)
        equal[name] = value
    if not alternatives:
        return None
    condition = alternatives[0]
    for alternative in alternatives[1:]:
        condition |= alternative
    first, first_value = cursor.ordering[0], cursor.values[0]
    if first_value is not None and first.startswith("-"):
        # A plain bound on the leading column lets an index start the scan at the cursor.
        condition &= Q(**{f"{first.lstrip('-')}__lte": first_value})
    elif first_value is not None and not model._meta.get_field(first).null:
        condition &= Q(**{f"{first}__gte": first_value})
    return condition
