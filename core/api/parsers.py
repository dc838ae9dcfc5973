"""The API's JSON parser: DRF's, within limits every body must respect.

- Nesting: at most ``MAX_DEPTH`` levels of objects and arrays. Python's parser recurses once per
  level, so a body 2,000 levels deep would exhaust the interpreter's stack (a 500); and nothing
  the API stores is deeper than a few levels.
- Numbers: a literal that overflows a float (``1e999``) is refused like ``NaN`` and
  ``Infinity``, instead of turning into an infinity the database cannot store.
- Text: a string with a lone surrogate (``"\ud800"``, which JSON allows and no text encoding
  can store) is refused.
- Keys: an object that names a key twice (``{"name": "A", "name": "B"}``: which one was
  meant?) is refused, instead of keeping the last.
- Integers: at most ``MAX_DIGITS`` digits, refused with a message of the API's own.

Every refusal is a 400 naming the body.
"""

from __future__ import annotations

import codecs
import json
import math
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 64
# A JSON escape of a UTF-16 surrogate (\\ud800-\\udfff), the only way a body's text can hold one.
SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F]")
MAX_DIGITS = 4300  # Python's own limit for converting text to int


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"number too long: {len(literal)} digits (at most {MAX_DIGITS})")
    return int(literal)


def _object(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the key {repeated[:40]!r} is given twice in one object")
    return found


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {literal[:40]}")
    return value


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def body_problem(value: object, limit: int, *, text: bool = True) -> str | None:
    """What makes a parsed body unacceptable (too deep, unstorable text), if anything. Walked
    without recursion, so that the check itself cannot overflow the stack. ``text=False`` skips
    the strings (their source held no escape that could make a lone surrogate).
    """
    kinds = dict | list | str if text else dict | list
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not _storable(item):
                return "a string holds a lone surrogate (not a Unicode character)"
        elif isinstance(item, dict | list):
            if depth > limit:
                return f"the body nests deeper than {limit} levels"
            if isinstance(item, dict):
                if text and not all(_storable(key) for key in item):
                    return "a key holds a lone surrogate (not a Unicode character)"
                children = item.values()
            else:
                children = item
            pending.extend((child, depth + 1) for child in children if isinstance(child, kinds))
    return None


class BoundedJSONParser(JSONParser):
    """``application/json`` bodies, strict and bounded (see the module)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(
                text,
                parse_constant=strict_constant,
                parse_float=_finite,
                parse_int=_integer,
                object_pairs_hook=_object,
            )
        except RecursionError:
            raise ParseError(
                f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels"
            ) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # Decoded strictly, the text holds no surrogate itself: only a \\u escape makes one.
        problem = body_problem(data, MAX_DEPTH, text=SURROGATE_ESCAPE.search(text) is not None)
        if problem is not None:
            raise ParseError(f"JSON parse error - {problem}")
        return data
