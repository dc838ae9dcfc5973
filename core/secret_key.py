"""Whether a ``SECRET_KEY`` looks random enough to sign sessions, tokens' HMACs and fingerprints.

Django's own deploy check (``security.W009``) wants 50 characters of which 5 differ, so it takes
``"abcde" * 10``. Here a key must also carry an estimated 128 bits or more (its length times the
bits of its alphabet: ``log2`` of its distinct characters) in 10 distinct characters or more; no
run of 8 characters may occur twice in it, and none may be 8 consecutive characters
(``abcdefgh``, ``87654321``): a key made by repeating a short one, walking the alphabet or typed
by hand is refused. 50 characters is Django's own minimum (``openssl rand -base64 32`` is 44:
use ``-base64 48``). ``openssl rand
-hex 32`` (64 characters of 16), ``secrets.token_urlsafe(50)`` and Django's
``get_random_secret_key()`` all pass; a random key repeats 8 characters with a probability under
one in ten million.
"""

from __future__ import annotations

import itertools
import math

MIN_LENGTH = 50
MIN_BITS = 128
MIN_DISTINCT = 10
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
    if key.lower().startswith(DJANGO_INSECURE_PREFIX):
        return f"starts with {DJANGO_INSECURE_PREFIX!r} (made by startproject, public)"
    if len(set(key)) < MIN_DISTINCT or estimated_bits(key) < MIN_BITS:
        return f"has too few distinct characters (under {MIN_BITS} bits estimated)"
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(key)]
    for start in range(len(steps) - REPEAT_WINDOW + 2):
        if len(set(steps[start : start + REPEAT_WINDOW - 1])) == 1 and abs(steps[start]) == 1:
            return f"holds a run of {REPEAT_WINDOW} consecutive characters (not random)"
    seen = set()
    for start in range(len(key) - REPEAT_WINDOW + 1):
        window = key[start : start + REPEAT_WINDOW]
        if window in seen:
            return f"repeats a run of {REPEAT_WINDOW} characters (not random)"
        seen.add(window)
    return None


ADVICE = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
