"""The floor: the same page fetched with raw psycopg (binary) and dumped with orjson.

It runs the same query as the endpoint (the page, with the per-client counter the endpoint reads
for ``total_count`` selected alongside) on the same standby and builds a byte-identical body, with
no framework at all: no routing, no authentication, no validation, no connection health check.
The benchmark checks that its body equals the endpoint's.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np
import orjson
import psycopg
from django.conf import settings
from pgvector.psycopg import register_vector

from core.api.renderers import OPTIONS
from core.api.rows import row_plan
from issues.serializers import IssueSerializer


def connection_params(alias: str) -> dict:
    """psycopg's connection parameters for a database alias."""
    entry = settings.DATABASES[alias]
    params = {
        "host": entry["HOST"],
        "port": entry["PORT"] or None,
        "user": entry["USER"] or None,
        "password": entry["PASSWORD"] or None,
        "dbname": entry["NAME"],
    }
    return {key: value for key, value in params.items() if value}


def replica_params() -> dict:
    return connection_params(settings.REPLICA_ALIASES[0] if settings.REPLICA_ALIASES else "default")


class IssueFloor:
    """Issue list pages straight from the standby."""

    def __init__(self) -> None:
        self.connection = psycopg.connect(**replica_params(), autocommit=True)
        register_vector(self.connection)
        self.queries = {}
        for ml in (False, True):
            plan = row_plan(IssueSerializer, ml)
            columns = ", ".join(f'"{column}"' for column in plan.columns)
            # The endpoint's own count: the per-client counter (core.counts), as a column.
            self.queries[ml] = (
                plan.names,
                f"SELECT {columns}, (SELECT rows FROM tenant_row_counts "
                "WHERE table_name = 'issues' AND client_id = %s) "
                "FROM issues WHERE client_id = %s AND active "
                "ORDER BY created_at DESC, id DESC LIMIT %s",
            )

    def page(self, client_id: int, limit: int = 100, ml: bool = False) -> bytes:
        names, sql = self.queries[ml]
        with self.connection.cursor(binary=True) as cursor:
            cursor.execute(sql, [client_id, client_id, limit], prepare=False)
            rows = cursor.fetchall()
        total = rows[0][-1] if len(rows) == limit else len(rows)
        width = len(names)
        items = [dict(zip(names, row[:width], strict=True)) for row in rows]
        if ml:
            for item in items:
                if item["embedding"] is not None:
                    item["embedding"] = item["embedding"].astype(np.float64)
        body = {
            "issues": items,
            "count": len(items),
            "total_count": total,
            "offset": 0,
            "limit": limit,
            "ml_fields_included": ml,
        }
        return orjson.dumps(body, option=OPTIONS)

    def wsgi(self, environ: dict, start_response) -> list[bytes]:
        """``GET /bench/floor/issues?client_id=&limit=&include_ml_fields=`` as a WSGI app."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        body = self.page(
            int(query["client_id"][0]),
            int(query.get("limit", ["100"])[0]),
            query.get("include_ml_fields", ["false"])[0] == "true",
        )
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
