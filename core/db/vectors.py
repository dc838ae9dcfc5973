"""Which tables carry a readable pgvector ``embedding`` column (the spec's vector access test).

``vector_columns_accessible()`` is the Django counterpart of the original router's
``test_vector_column_access()``: it reads each table's embedding column through the ML session
(``ml_session()``), so it checks the server ML work really uses. A table or column that does not
exist (yet) is reported as not accessible rather than raising.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError, connections

from core.db.router import ml_session
from core.fields import EMBEDDING_COLUMN
from core.registry import vector_tables

logger = logging.getLogger(__name__)


# One catalog read instead of one failing SELECT per missing table: a missing table is normal
# while the schema is being rolled out, and must not fill the server log with errors.
VECTOR_COLUMNS_SQL = """
SELECT wanted.name
FROM unnest(%s::text[]) AS wanted(name)
JOIN pg_attribute a ON a.attrelid = to_regclass(wanted.name)
    AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid AND t.typname = 'vector'
"""


def tables_with_vector_column(cursor, tables: Iterable[str]) -> set[str]:
    """The names among ``tables`` that have an ``embedding`` column of type ``vector``."""
    cursor.execute(VECTOR_COLUMNS_SQL, [list(tables), EMBEDDING_COLUMN])
    return {row[0] for row in cursor.fetchall()}


def vector_column_access(tables: Iterable[str] | None = None) -> dict[str, bool]:
    """For each table (by default every vector model's), whether its embedding column can be read
    through the ML session."""
    tables = list(vector_tables() if tables is None else tables)
    access = dict.fromkeys(tables, False)
    with ml_session() as alias:
        connection = connections[alias]
        column = connection.ops.quote_name(EMBEDDING_COLUMN)
        try:
            with connection.cursor() as cursor:
                present = tables_with_vector_column(cursor, tables)
                for table in tables:
                    if table in present:
                        cursor.execute(
                            f"SELECT {column} FROM {connection.ops.quote_name(table)} LIMIT 1"
                        )
                        cursor.fetchall()
                        access[table] = True
        except DatabaseError as exc:
            # The class name only: the message of a connection error names the server.
            logger.warning("vector column check failed on %s: %s", alias, type(exc).__name__)
    return access


def vector_columns_accessible(tables: Iterable[str] | None = None) -> bool:
    """True when every table's embedding column can be read through the ML session."""
    return all(vector_column_access(tables).values())
