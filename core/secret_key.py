"""Whether a ``SECRET_KEY`` looks random enough to sign sessions, tokens' HMACs and fingerprints.

Django's own deploy check (``security.W009``) wants 50 characters of which 5 differ, so it takes
``"abcde" * 10``. Here a key must also carry an estimated 128 bits or more (its length times the
bits of its alphabet: ``log2`` of its distinct characters), and no run of 8 characters may occur
twice in it: a key made by repeating a short one, or typed by hand, is refused. ``openssl rand
-hex 32`` (64 characters of 16), ``secrets.token_urlsafe(50)`` and Django's
``get_random_secret_key()`` all pass; a random key repeats 8 characters with a probability under
one in ten million.
"""

from __future__ import annotations

import math

MIN_LENGTH = 50
MIN_BITS = 128
REPEAT_WINDOW = 8
DJANGO_INSECURE_PREFIX = "django-insecure-"


def estimated_bits(key: str) -> float:
    """Length times the bits of the alphabet the key uses (an upper bound for a random key)."""
    distinct = len(set(key))
    return len(key) * math.log2(distinct) if distinct > 1 else 0.0


def weakness(key: str) -> str | None:
    """Why ``key`` is not fit to be a production ``SECRET_KEY``, or None."""
    if len(key) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if key.startswith(DJANGO_INSECURE_PREFIX):
        return f"starts with {DJANGO_INSECURE_PREFIX!r} (made by startproject, public)"
    if estimated_bits(key) < MIN_BITS:
        return f"has too few distinct characters (under {MIN_BITS} bits estimated)"
    seen = set()
    for start in range(len(key) - REPEAT_WINDOW + 1):
        window = key[start : start + REPEAT_WINDOW]
        if window in seen:
            return f"repeats a run of {REPEAT_WINDOW} characters (not random)"
        seen.add(window)
    return None


ADVICE = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
