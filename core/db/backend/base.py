"""Django's PostgreSQL backend, with a cheaper connection health check.

With ``CONN_HEALTH_CHECKS``, Django runs ``SELECT 1`` on a reused connection before its first
query of each request: a round trip to the server on every request, for every alias used.
An idle session's socket has nothing to read unless the server is going away (a shutting-down
server's farewell, or the end of the stream once it is gone), so one ``poll()`` with no wait
tells the usual case apart; when something did arrive, the full check runs.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        if raw.info.transaction_status == pq.TransactionStatus.IDLE and hasattr(select, "poll"):
            try:
                poller = select.poll()
                poller.register(raw.fileno(), select.POLLIN)
                if not poller.poll(0):
                    return True
            except (OSError, ValueError):
                return False
        return super().is_usable()
