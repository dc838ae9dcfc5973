"""A deterministic text embedding computed locally, so the demo's similarity search means something.

Feature hashing: the words of a text, its pairs of adjacent words and the character trigrams of
each word are hashed (BLAKE2b, so every process and every run agrees) onto the
``EMBEDDING_DIMENSIONS`` coordinates with a sign, summed and scaled to unit length. Texts that share
words, phrases or word stems point the same way, so issues about the same topic are each other's
nearest neighbours by cosine distance. It is no language model (it knows no synonyms), but it needs
no network, no model file and no key, and any client can recompute it.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import re
import sys
from collections.abc import Iterator

from core.fields import EMBEDDING_DIMENSIONS

WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing of a topic; the rest carry it.
STOP_WORDS = frozenset(
    (
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it",
        "of", "on", "or", "so", "that", "the", "this", "to", "was", "we", "with",
    )
)  # fmt: skip
WORD_WEIGHT = 1.0
PAIR_WEIGHT = 1.0
TRIGRAM_WEIGHT = 0.25


def _features(text: str) -> Iterator[tuple[str, float]]:
    words = [word for word in WORD.findall(text.lower()) if word not in STOP_WORDS]
    for word in words:
        yield f"w:{word}", WORD_WEIGHT
        padded = f"<{word}>"
        for start in range(len(padded) - 2):
            yield f"c:{padded[start : start + 3]}", TRIGRAM_WEIGHT
    for first, second in itertools.pairwise(words):
        yield f"p:{first} {second}", PAIR_WEIGHT


def text_embedding(text: str) -> list[float] | None:
    """The unit vector of ``text``; None for a text with no words (it has no direction)."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for feature, weight in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        position = int.from_bytes(digest[:4], "big") % EMBEDDING_DIMENSIONS
        vector[position] += weight if digest[4] & 1 else -weight
    norm = math.sqrt(sum(value * value for value in vector))
    if not norm:
        return None
    return [value / norm for value in vector]


def main(argv: list[str]) -> int:
    """``python -m demo.embedding [--limit K] TEXT...``: print ``{"embedding": [...]}`` for the
    words given, a body for ``PUT .../embedding`` (and, with ``--limit``, ``POST .../similar``)."""
    parser = argparse.ArgumentParser(prog="python -m demo.embedding", description=main.__doc__)
    parser.add_argument("--limit", type=int, help="add a limit, for POST .../similar")
    parser.add_argument("text", nargs="+")
    arguments = parser.parse_args(argv)
    vector = text_embedding(" ".join(arguments.text))
    if vector is None:
        parser.error("the text has no word to embed")
    body = {"embedding": [round(value, 6) for value in vector]}
    if arguments.limit is not None:
        body["limit"] = arguments.limit
    print(json.dumps(body))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
