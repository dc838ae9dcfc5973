"""What this process knows about the shared cache's failures, and writes it still owes it.

Two things the shared cache holds must never be missed silently: a user's read-your-writes
position and the token epoch. When writing one fails (Redis down or frozen), the write is kept
here and made again on the next successful use of the cache (``owed``/``settle``); meanwhile,
and for a while after any failure this process saw, readers do not trust the cache's silence
(``failed_within``): reads go to the primary, tokens are looked up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from core import metrics

logger = logging.getLogger(__name__)

_last_failure = float("-inf")
_owed: dict[str, Callable[[], None]] = {}
_lock = threading.Lock()


def note_failure() -> None:
    """The shared cache just failed a read or a write in this process."""
    global _last_failure
    _last_failure = time.monotonic()
    metrics.count(metrics.CACHE_ERRORS, "shared")


def failed_within(seconds: float) -> bool:
    """Whether this process saw the shared cache fail in the last ``seconds``."""
    return time.monotonic() - _last_failure < seconds


def owe(key: str, write: Callable[[], None]) -> None:
    """Remember a write that failed; ``key`` names it (a later one of the same key replaces it)."""
    with _lock:
        _owed[key] = write


def settle() -> None:
    """After a successful use of the cache: make the writes still owed (each once)."""
    if not _owed:
        return
    with _lock:
        pending = list(_owed.items())
        _owed.clear()
    for number, (_key, write) in enumerate(pending):
        try:
            write()
        except Exception:  # still failing: this write and the rest are owed again
            note_failure()
            for later_key, later_write in pending[number:]:
                owe(later_key, later_write)
            logger.warning("shared cache still unwritable; %d write(s) owed", len(pending) - number)
            return


def reset() -> None:
    """Forget failures and owed writes (tests)."""
    global _last_failure
    with _lock:
        _owed.clear()
    _last_failure = float("-inf")
