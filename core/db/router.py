"""The database router: writes to the primary, reads to a healthy standby, ML work to ``ml``.

Rules, in order:
1. Writes go to ``default`` (``ml_primary`` inside ``ml_session(read_only=False)``); migrations
   run only on ``default``.
2. Reads go to the primary while the primary is inside an atomic block, or when this unit of
   work (or this user, within ``REPLICA_PIN_SECONDS``) has written: read-your-writes. When the
   primary is unreachable, such a pinned read is served by a standby rather than failing.
3. Reads of ML models, and reads inside ``ml_session()``, go to ``ml``.
4. Other reads go to a usable standby, round-robin.
5. With no usable standby, reads go to the primary (ML reads to ``ml_primary``, which keeps the
   ML session settings); with the primary down too, a lagging standby still answers. A read
   whose standby dies mid-query is retried on the primary (``core.db.failover``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from django.db import InterfaceError, OperationalError, connections

from core.db import replicas
from core.db.state import current

ML_APPS = frozenset({"mlmonitoring"})

logger = logging.getLogger(__name__)


def _primary_in_atomic_block() -> bool:
    return connections["default"].in_atomic_block


def ml_read_alias() -> str:
    """The alias ML reads use right now: ``ml`` on a usable standby, else ``ml_primary``."""
    server = replicas.ml_server()
    if server is None or replicas.is_usable("ml", server):
        return "ml"
    if replicas.primary_reachable():
        return "ml_primary"
    # The primary is down too: a lagging standby still answers.
    return "ml" if replicas.is_usable("ml", server, max_lag=float("inf")) else "ml_primary"


def _fallback_read_alias() -> str:
    """No standby is fresh enough: the primary, or, when it is down, any standby that answers."""
    if replicas.primary_reachable():
        return "default"
    return replicas.choose_replica(max_lag=float("inf")) or "default"


def read_alias(*, ml: bool = False) -> str:
    """The alias a read should use now, by the rules above."""
    state = current()
    ml = ml or state.ml_mode is not None
    if state.ml_mode == "write":
        alias = "ml_primary"
    elif _primary_in_atomic_block():
        # Only this connection sees the open transaction's own writes.
        alias = "default"
    elif state.reads_primary() and replicas.primary_reachable():
        alias = "ml_primary" if ml else "default"
    elif ml:
        alias = ml_read_alias()
    else:
        alias = replicas.choose_replica() or _fallback_read_alias()
    state.note_read(alias)
    return alias


class PrimaryReplicaRouter:
    """Route reads and writes across the primary, its standbys and the ML sessions."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias(ml=model._meta.app_label in ML_APPS)

    def db_for_write(self, model, **hints) -> str:
        state = current()
        state.wrote = True
        return "ml_primary" if state.ml_mode == "write" else "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Every alias is a session on the same cluster (a primary or its physical standby).
        return True

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == "default"


@contextlib.contextmanager
def ml_session(*, read_only: bool = True) -> Iterator[str]:
    """ORM reads inside go to the ML session (``statement_timeout=300s``, ``work_mem=256MB``...).

    Yields the alias in use, for raw SQL. ``read_only=False`` gives the primary with the same
    tuning (``ml_primary``), for ML writes: reads and writes inside then both go there.
    """
    state = current()
    previous = state.ml_mode
    state.ml_mode = "read" if read_only else "write"
    try:
        yield read_alias(ml=True)
    finally:
        state.ml_mode = previous


def primary_first[T](read: Callable[[str | None], T]) -> tuple[T, bool]:
    """``read("default")`` (the primary), for reads that must not lag (security checks); when
    the primary is down or fails, ``read(None)`` (routed: a standby). Also says whether the
    primary answered.
    """
    if replicas.primary_reachable():
        try:
            return read("default"), True
        except (OperationalError, InterfaceError):
            logger.warning("a read on the primary failed; a standby answers")
    return read(None), False
