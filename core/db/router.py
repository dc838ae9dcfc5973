"""The database router: writes to the primary, reads to a healthy standby, ML work to an ML session.

Rules, in order:
1. Writes go to ``default`` (``ml_primary`` inside ``ml_session(read_only=False)``); migrations
   run only on ``default``.
2. Reads go to the primary while the primary is inside an atomic block, once this request has
   written, and in a request that is going to write (what it validates, it validates against
   the primary).
3. Read-your-writes: a user who wrote recently (``core.db.state``) reads from a standby whose
   replay has reached the WAL position of that write, else from the primary (even while this
   process believes the primary is down: it may just have come back).
4. Reads of ML models, and reads inside ``ml_session()``, go to an ML session on a healthy
   standby (a dedicated one first, when ``ML_DATABASE_URL`` names one), else ``ml_primary``.
5. Other reads go to a usable standby, round-robin.
6. With no usable standby, reads go to the primary; with the primary down too, a lagging standby
   still answers. A read whose standby fails is re-run on another server by the routing
   middleware (``core.db.failover``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction

from core import metrics
from core.db import replicas
from core.db.config import ML_PRIMARY, PRIMARY
from core.db.state import PRIMARY_ONLY, RoutingState, current

ML_APPS = frozenset({"mlmonitoring"})
ANY_LAG = float("inf")

logger = logging.getLogger(__name__)


def _primary_in_atomic_block() -> bool:
    return connections[PRIMARY].in_atomic_block


_reported_views: set[str] = set()


def _report_read_in_atomic(view: str) -> None:
    """A read-only API request read inside ``atomic()``: the read went to the primary, as every
    read in a transaction must, but the request never needed one. Said once per view and process."""
    if view not in _reported_views:
        _reported_views.add(view)
        logger.warning(
            "%s read inside transaction.atomic() in a request that only reads: its reads go to "
            "the primary, not a standby; read outside the transaction",
            view,
        )


def _standby_read(*, ml: bool, position: int | None, max_lag: float | None = None) -> str | None:
    if ml:
        return replicas.choose_ml(max_lag=max_lag, position=position)
    return replicas.choose_replica(max_lag=max_lag, position=position)


def _any_standby(*, ml: bool) -> str | None:
    return _standby_read(ml=ml, position=None, max_lag=ANY_LAG)


def _pinned_without_primary(*, ml: bool, position: int) -> str | None:
    """A read pinned to ``position`` while the primary does not answer: a standby that has
    replayed it (its WAL may still be arriving: the primary went away just after the write),
    else, rather than an error, any standby that answers.
    """
    alias = None
    if position != PRIMARY_ONLY:
        alias = replicas.wait_for_replay(
            position, ml=ml, seconds=settings.REPLICA_READ_TIMEOUT, max_lag=ANY_LAG
        )
    if alias is None:
        logger.warning("the primary does not answer and no standby has the user's last write")
        alias = _any_standby(ml=ml)
    return alias


def _routed_read(*, ml: bool, position: int | None, state: RoutingState | None = None) -> str:
    primary = ML_PRIMARY if ml else PRIMARY
    if position is None:
        alias = _standby_read(ml=ml, position=None)
        if alias is not None:
            return alias
        if replicas.primary_reachable():
            return primary
        # The primary is down too: a lagging standby still answers.
        return _any_standby(ml=ml) or primary
    if position != PRIMARY_ONLY:
        # This user's write: on a usable standby, or on one in a few milliseconds.
        alias = _standby_read(ml=ml, position=position) or replicas.wait_for_replay(
            position, ml=ml, seconds=replicas.REPLAY_WAIT_SECONDS
        )
        if alias is not None:
            return alias
    if replicas.primary_answers():
        return primary
    # Decided once per request: every query of it would otherwise wait again.
    remembered = state.fallbacks.get(ml) if state is not None else None
    if remembered is None or replicas.is_down(replicas.server_for(remembered)):
        remembered = _pinned_without_primary(ml=ml, position=position) or primary
        if state is not None:
            state.fallbacks[ml] = remembered
    return remembered


def ml_read_alias() -> str:
    """The alias ML reads use right now (for a caller with no recent write)."""
    return _routed_read(ml=True, position=None)


def read_alias(*, ml: bool = False) -> str:
    """The alias a read should use now, by the rules above."""
    state = current()
    ml = ml or state.ml_mode is not None
    if state.ml_mode == "write":
        alias = ML_PRIMARY
    elif _primary_in_atomic_block():
        # Only this connection sees the open transaction's own writes.
        alias = PRIMARY
        if state.read_only_view is not None and not state.wrote:
            _report_read_in_atomic(state.read_only_view)
    elif state.wrote or (state.primary_reads and replicas.primary_reachable()):
        # Having written, this request has seen the primary answer.
        alias = ML_PRIMARY if ml else PRIMARY
    else:
        alias = _routed_read(ml=ml, position=state.pin(), state=state)
    state.note_read(alias)
    metrics.count(metrics.DB_READS, alias)
    return alias


class PrimaryReplicaRouter:
    """Route reads and writes across the primary, its standbys and the ML sessions."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias(ml=model._meta.app_label in ML_APPS)

    def db_for_write(self, model, **hints) -> str:
        state = current()
        state.wrote = True
        return ML_PRIMARY if state.ml_mode == "write" else PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Every alias is a session on the same cluster (a primary or its physical standby).
        return True

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == PRIMARY


@contextlib.contextmanager
def ml_session(*, read_only: bool = True) -> Iterator[str]:
    """ORM reads inside go to an ML session (``statement_timeout=300s``, ``work_mem=256MB``...).

    Yields the alias in use, for raw SQL. ``read_only=False`` gives the primary with the same
    tuning (``ml_primary``), for ML writes: everything inside then runs there, in one
    transaction that is read-write although the ML session's default is read-only.
    """
    state = current()
    previous = state.ml_mode
    state.ml_mode = "read" if read_only else "write"
    try:
        if read_only:
            yield read_alias(ml=True)
        else:
            with transaction.atomic(using=ML_PRIMARY):
                with connections[ML_PRIMARY].cursor() as cursor:
                    cursor.execute("SET TRANSACTION READ WRITE")
                yield ML_PRIMARY
    finally:
        state.ml_mode = previous


def primary_first[T](read: Callable[[str | None], T]) -> tuple[T, bool]:
    """``read("default")`` (the primary), for reads that must not lag (security checks); when
    the primary is down or fails, ``read(None)`` (routed: a standby). Also says whether the
    primary answered.
    """
    if replicas.primary_reachable():
        try:
            return read(PRIMARY), True
        except (OperationalError, InterfaceError):
            logger.warning("a read on the primary failed; a standby answers")
    return read(None), False
