"""One grammar for the scalar values of query parameters, and strict JSON scalars in bodies.

Query parameters arrive as text. An integer is written in ASCII digits with an optional minus and
no leading zero (``10``, ``-3``, ``0``): ``1_0``, ``+1``, ``01``, `` 1``, ``1.0``, ``-0`` and
non-ASCII digits (Arabic-Indic, full-width), which Python's ``int()`` would take, are 400s; a boolean is
``true``/``false`` (or ``1``/``0``, ``yes``/``no``, ``on``/``off``, any case), nothing else; a
timestamp is RFC 3339 (``2026-12-03T10:00:00Z``, ``2026-12-03T11:00:00.5+01:00``) or a date alone
(``2026-12-03``: its midnight UTC), never without a UTC offset (which time zone was meant?).

JSON bodies carry typed values: a number field takes a JSON number (an integer field a JSON
integer), never a string (``"1e2"``) or a boolean (``true``); a JSON field never stores a NUL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

INTEGER = re.compile(r"0|-?[1-9][0-9]{0,18}")
TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})
INTEGER_HINT = "a whole number in ASCII digits (e.g. 10), no sign but -, no leading zero"
TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)
TIMESTAMP_HINT = (
    "an RFC 3339 time with its UTC offset (2026-12-03T10:00:00Z, 2026-12-03T10:00:00%2B01:00 "
    "with + written %2B in a URL) or a date (2026-12-03, midnight UTC)"
)


def parse_integer(text: str) -> int:
    """``text`` as an integer; ValueError (whose message says what was expected) otherwise."""
    if not isinstance(text, str) or not INTEGER.fullmatch(text):
        raise ValueError(f"Expected {INTEGER_HINT}; got {str(text)[:40]!r}.")
    return int(text)


def parse_boolean(text: str) -> bool:
    lowered = text.lower() if isinstance(text, str) else None
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise ValueError(f"Expected true or false; got {str(text)[:40]!r}.")


def parse_timestamp(text: str) -> datetime:
    """``text`` as an aware UTC datetime; ValueError (saying what was expected) otherwise."""
    match = TIMESTAMP.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"Expected {TIMESTAMP_HINT}; got {str(text)[:40]!r}.")
    if match["time"] is not None and match["offset"] is None:
        raise ValueError(
            f"A time needs its UTC offset (Z, or +hh:mm written %2Bhh:mm); got {text[:40]!r}."
        )
    try:
        value = datetime.fromisoformat(f"{match['date']}T{match['time'] or '00:00'}")
        offset = match["offset"] or "Z"
        if offset not in "Zz":
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError
            delta = timedelta(hours=hours, minutes=minutes)
            value = value.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta))
        else:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"Not a valid time (year 1 to 9999, UTC): {text[:40]!r}.") from None


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    """A time in a body, in the grammar above (DRF's own takes times without an offset)."""

    default_error_messages = {"invalid": "{message}"}

    def to_internal_value(self, data):
        try:
            return parse_timestamp(data)
        except ValueError as error:
            self.fail("invalid", message=str(error))

    def to_representation(self, value):
        return serializers.DateTimeField().to_representation(value)


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter, in the grammar above."""

    def to_internal_value(self, data):
        try:
            value = parse_integer(data)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        return super().to_internal_value(value)


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter, in the grammar above."""

    def to_internal_value(self, data):
        try:
            return parse_boolean(data)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


def require_json_integer(data: object) -> None:
    """A JSON integer, not a string, a boolean or a float such as ``1.0`` (else a 400)."""
    if isinstance(data, bool) or not isinstance(data, int):
        raise serializers.ValidationError(
            f"Expected an integer, got {type(data).__name__} {str(data)[:40]!r}."
        )


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a string, a boolean or a float such as ``1.0``)."""

    def to_internal_value(self, data):
        require_json_integer(data)
        return super().to_internal_value(data)


class StrictBigIntegerField(serializers.BigIntegerField):
    """A JSON integer, for a 64-bit column."""

    def to_internal_value(self, data):
        require_json_integer(data)
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number (not a string or a boolean)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise serializers.ValidationError(
                f"Expected a number, got {type(data).__name__} {str(data)[:40]!r}."
            )
        return super().to_internal_value(data)


def _holds_nul(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def refuse_nul(data: object) -> None:
    """A JSON value PostgreSQL can store: no NUL character in any string or key."""
    if _holds_nul(data):
        raise serializers.ValidationError("NUL characters (\\u0000) cannot be stored.")


class StrictJSONField(serializers.JSONField):
    """A JSON value PostgreSQL can store: no NUL character in any string or key."""

    def to_internal_value(self, data):
        refuse_nul(data)
        return super().to_internal_value(data)


class StrictDictField(serializers.DictField):
    """A JSON object PostgreSQL can store: no NUL character in any string or key."""

    def to_internal_value(self, data):
        refuse_nul(data)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """DRF's text field without its per-character scan for lone surrogates: the API's only
    parser (``core.api.parsers``) refuses a lone surrogate anywhere in a body, so no field ever
    receives one, and the scan cost a bulk write of long texts a third of its checking."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitSurrogateCharactersValidator)
        ]


# Model serializers build these instead of DRF's lenient ones (TenantModelSerializer).
STRICT_FIELDS = {
    serializers.CharField: StrictCharField,
    serializers.IntegerField: StrictIntegerField,
    serializers.BigIntegerField: StrictBigIntegerField,
    serializers.FloatField: StrictFloatField,
    serializers.JSONField: StrictJSONField,
}
