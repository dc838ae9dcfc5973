"""Reads in PostgreSQL's binary format, with pgvector's types known to every connection.

Django's cursors bind parameters on the client, and psycopg cannot return binary results from
such cursors; vectors then travel as text (about 17 kB for 1536 floats) and are parsed float by
float. The list fast path (``core.api.rows``) runs its page query through ``binary_cursor()``:
the same SQL, Django's cursor wrapper (query logging, the standby failover wrapper), but binary
results, so a vector is 6 kB copied into a numpy array.

pgvector's loaders are registered on each new connection. The ``vector`` type exists only once
the extension is installed (by a migration): a connection opened before that simply goes without
the adapter, and the readers here accept the raw value too.
"""

from __future__ import annotations

import logging

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.backends.utils import CursorWrapper
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

logger = logging.getLogger(__name__)


def register_vector_type(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """Teach a new PostgreSQL connection to load and dump ``vector`` values (numpy arrays)."""
    if connection.vendor != "postgresql":
        return
    raw = connection.connection
    try:
        info = TypeInfo.fetch(raw, "vector")
    except psycopg.Error:
        if raw.closed:
            # The server went away while we connected: the connection attempt failed.
            raise
        logger.debug("vector type lookup failed on %s", connection.alias, exc_info=True)
        return
    if info is None:
        # Not migrated yet: the extension (and so the type) does not exist in this database.
        return
    register_vector_info(raw, info)


def connect_signals() -> None:
    """Called from ``CoreConfig.ready()``."""
    connection_created.connect(
        register_vector_type, dispatch_uid="core.db.binary_reads.register_vector_type"
    )


class BinaryResultCursor(psycopg.Cursor):
    """Server-side binding with binary results; never prepared, so each tenant gets its own plan."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=False, binary=True)


def binary_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A Django cursor on ``connection`` whose results come back in binary format."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = BinaryResultCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
