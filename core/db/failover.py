"""Give up on a standby that fails under a read, so the read can be re-run elsewhere.

An execute wrapper is installed on every standby connection (API and ML aliases) when it
connects. It arms the read deadline of the current request (``core.db.deadline``) and, when a
read fails because the standby failed rather than the query (the connection broke, the server
is shutting down, the deadline cut it off, replay cancelled it or blocked it past
``lock_timeout``), marks the standby down and raises ``StandbyUnavailable``. The routing
middleware then re-runs the whole request once on another server (``core.db.middleware``):
a request, unlike a cursor, can be re-run from its start, transactions and all.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, OperationalError
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from core.db import replicas
from core.db.deadline import answered, armed
from core.db.state import current

logger = logging.getLogger(__name__)

# SQLSTATEs that mean the standby (not the query) failed: connection exceptions (08), the server
# shutting down or restarting (57P01-57P03), a recovery conflict cancelling the read (40001,
# 40P01), and a read that queued behind replay past lock_timeout (55P03).
STANDBY_GONE_STATES = ("08", "57P01", "57P02", "57P03")
REPLAY_CONFLICT_STATES = ("40001", "40P01", "55P03")


class StandbyUnavailable(OperationalError):
    """A read failed because its standby did; the standby is marked down. Re-run it elsewhere."""


def _sqlstate(error: BaseException) -> str:
    return getattr(error.__cause__, "sqlstate", None) or getattr(error, "sqlstate", None) or ""


def failure_reason(connection, error: BaseException, *, cut_off: bool) -> tuple[str, bool] | None:
    """Why the standby behind ``connection`` failed, and whether replay did it; None when the
    query itself failed (a bad statement, a statement timeout): that error stands.
    """
    if cut_off:
        return "no answer within the read deadline", False
    state = _sqlstate(error)
    if state.startswith(REPLAY_CONFLICT_STATES):
        return "replay cancelled or blocked a read", True
    raw = connection.connection
    if raw is None or raw.closed or raw.broken or state.startswith(STANDBY_GONE_STATES):
        return "connection lost during a read", False
    return None


def give_up_standby(connection, error: BaseException, *, cut_off: bool = False) -> None:
    """If ``error`` on ``connection`` means its standby failed: mark it down, close the session
    and raise StandbyUnavailable. Otherwise return (the caller re-raises ``error``).
    """
    server = replicas.server_of(connection.alias)
    if server is None:
        return
    found = failure_reason(connection, error, cut_off=cut_off)
    if found is None:
        return
    reason, replay_conflict = found
    replicas.mark_down(server, reason, replay_conflict=replay_conflict)
    connection.close()
    raise StandbyUnavailable(f"standby {server}: {reason}") from error


def guard_standby_read(execute, sql, params, many, context):
    """Execute wrapper of standby connections: the read deadline, and giving up on failure."""
    connection = context["connection"]
    raw = connection.connection
    server = replicas.server_of(connection.alias)
    alarm = None
    try:
        with armed(
            raw.fileno() if raw is not None else None,
            current().read_deadline,
            server=server,
            probe=replicas.sign_of_life(connection.alias),
        ) as alarm:
            result = execute(sql, params, many, context)
    except DatabaseError as error:
        give_up_standby(connection, error, cut_off=alarm is not None and alarm.fired)
        raise
    answered(server)
    return result


@receiver(connection_created)
def install_guard(sender, connection, **kwargs) -> None:
    """Give each new standby connection the guard (once)."""
    if (
        replicas.server_of(connection.alias) is not None
        and guard_standby_read not in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(guard_standby_read)
