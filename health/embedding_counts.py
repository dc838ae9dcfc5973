"""How many rows carry an embedding, per vector table, without scanning big tables on each probe.

A table whose heap is at most ``EXACT_COUNT_MAX_BYTES`` is counted exactly (a short scan). A
bigger one is estimated from the planner statistics the server keeps anyway:
``reltuples * (1 - null_frac)`` of the embedding column (``pg_class``, ``pg_stats``; kept
current by autovacuum's ANALYZE). Either way the result is cached for
``CACHE_SECONDS`` in the shared cache, so a probe every second costs one cache read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache

from core.fields import EMBEDDING_COLUMN
from health.servers import fetch

logger = logging.getLogger(__name__)

CACHE_KEY = "health:embedding-counts"
CACHE_SECONDS = 30
EXACT_COUNT_MAX_BYTES = 64 * 1024 * 1024
COLUMN_NOT_AVAILABLE = "column_not_available"

# One catalog read: which tables have a vector embedding column, their heap size, their
# planner statistics. A missing table or column is simply absent from the result.
SIZES_SQL = """
SELECT wanted.name, pg_relation_size(c.oid), c.reltuples, s.null_frac
FROM unnest(%s::text[]) AS wanted(name)
JOIN pg_class c ON c.oid = to_regclass(wanted.name)
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
    AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid AND t.typname = 'vector'
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
    AND s.attname = a.attname AND NOT s.inherited
"""


@dataclass(frozen=True)
class EmbeddingCounts:
    """Counts per ``<table>_with_embeddings`` key, how each was obtained, and when."""

    counts: dict[str, int | str | None]
    methods: dict[str, str]
    counted_at: str
    from_cache: bool

    def source(self) -> dict:
        """The ``vector_columns_source`` part of the database report."""
        return {
            "methods": self.methods,
            "counted_at": self.counted_at,
            "from_cache": self.from_cache,
            "cached_for_seconds": CACHE_SECONDS,
            "exact_count_max_bytes": EXACT_COUNT_MAX_BYTES,
        }


def count_key(table: str) -> str:
    return f"{table}_with_embeddings"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _estimate(reltuples: float, null_frac: float | None) -> int | None:
    # reltuples is -1 until the table was first vacuumed or analysed: no estimate yet.
    if reltuples < 0 or null_frac is None:
        return None
    return round(reltuples * (1 - null_frac))


def count_embeddings(alias: str, tables: tuple[str, ...]) -> EmbeddingCounts:
    """Count (or estimate) embeddings per table on ``alias``; raises ProbeFailed."""
    sizes = {row[0]: row[1:] for row in fetch(alias, SIZES_SQL, [list(tables), EMBEDDING_COLUMN])}
    counts: dict[str, int | str | None] = {}
    methods: dict[str, str] = {}
    for table in tables:
        key = count_key(table)
        if table not in sizes:
            counts[key] = COLUMN_NOT_AVAILABLE
            continue
        heap_bytes, reltuples, null_frac = sizes[table]
        if heap_bytes <= EXACT_COUNT_MAX_BYTES:
            column = _quoted(EMBEDDING_COLUMN)
            sql = f"SELECT count(*) FROM {_quoted(table)} WHERE {column} IS NOT NULL"
            counts[key] = fetch(alias, sql)[0][0]
            methods[key] = "exact"
        else:
            counts[key] = _estimate(reltuples, null_frac)
            methods[key] = "estimate" if counts[key] is not None else "no_statistics_yet"
    return EmbeddingCounts(
        counts=counts,
        methods=methods,
        counted_at=datetime.now(UTC).isoformat(),
        from_cache=False,
    )


def embedding_counts(alias: str, tables: tuple[str, ...]) -> EmbeddingCounts:
    """The cached counts when fresh, else counted now on ``alias`` and cached."""
    try:
        cached = cache.get(CACHE_KEY)
    except Exception as exc:
        # Any cache backend's error (file, Redis...): a cache outage must not turn the
        # database report into a 500, so count live instead.
        logger.warning("embedding counts cache unavailable: %s", type(exc).__name__)
        return count_embeddings(alias, tables)
    if cached is not None and cached["tables"] == list(tables):
        return EmbeddingCounts(
            counts=cached["counts"],
            methods=cached["methods"],
            counted_at=cached["counted_at"],
            from_cache=True,
        )
    result = count_embeddings(alias, tables)
    entry = {
        "tables": list(tables),
        "counts": result.counts,
        "methods": result.methods,
        "counted_at": result.counted_at,
    }
    try:
        cache.set(CACHE_KEY, entry, timeout=CACHE_SECONDS)
    except Exception as exc:
        # The counts are right; not caching them only costs the next probe a count.
        logger.warning("embedding counts cache unavailable: %s", type(exc).__name__)
    return result
