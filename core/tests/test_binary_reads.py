"""pgvector's types on new connections: registered when the type exists, harmless otherwise."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import psycopg
import pytest
from django.db import connections

from core.db.binary_reads import binary_cursor, register_vector_type


@pytest.mark.django_db
def test_binary_cursor_returns_vectors_as_arrays():
    with binary_cursor(connections["default"]) as cursor:
        cursor.execute("SELECT '[1,2,3]'::vector, 'text', 7")
        vector, text, number = cursor.fetchone()
    assert isinstance(vector, np.ndarray) and vector.tolist() == [1.0, 2.0, 3.0]
    assert (text, number) == ("text", 7)


def test_a_database_without_the_vector_type_is_left_alone():
    # The maintenance database never had the extension, like a database before its migrations.
    params = connections["default"].get_connection_params()
    params = {key: params[key] for key in ("host", "port", "user") if params.get(key)}
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as raw:
        register_vector_type(
            sender=None, connection=SimpleNamespace(vendor="postgresql", connection=raw, alias="x")
        )
        assert raw.execute("SELECT 1").fetchone() == (1,)
        assert raw.adapters.types.get("vector") is None
