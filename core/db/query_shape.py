"""The one module that reads Django's ``Query`` internals, so that a Django upgrade that changes
them breaks here, where the parity tests look (``core/tests/test_rows.py``,
``core/tests/test_counts.py``, ``core/tests/test_cursor_pagination.py``), and nowhere else.

Django has no public API for these questions, and each answer saves a list request real time:

- ``select_sql()``: a list page's SQL with only the WHERE compiled by Django (compiling a
  ``values_list`` costs more than running the page query);
- ``plain_client_rows()``: whether a queryset is exactly "the client's active rows", whose
  total is read from a counter instead of counted;
- ``ordering_terms()``: the ordering a cursor page keys on.

Each falls back to the ORM's own behaviour when a query has any shape it does not know.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.core.exceptions import FullResultSet
from django.db import connections, models
from django.db.models.expressions import Col, RawSQL
from django.db.models.lookups import Exact
from django.db.models.sql import Query
from django.db.models.sql.where import AND

# SQL and its parameters.
SqlExpression = tuple[str, Sequence[object]]
# The name ``select_sql`` gives its extra expression when Django compiles the query in full.
EXTRA = "_select_sql_extra"


def ordering_terms(queryset: models.QuerySet) -> tuple:
    """The ORDER BY terms set on ``queryset`` (``order_by()``), as given."""
    return tuple(queryset.query.order_by)


def plain_client_rows(queryset: models.QuerySet, client_id: int) -> bool:
    """True when ``queryset`` selects exactly the client's active rows (any order).

    Read off the WHERE tree (``client_id = <client> AND active``, nothing else): building the
    plain queryset to compare with costs about as much as the count query itself.
    """
    query = queryset.query
    where = query.where
    if query.distinct or where.negated or where.connector != AND or len(where.children) != 2:
        return False
    found = {}
    for lookup in where.children:
        if not isinstance(lookup, Exact) or not isinstance(lookup.lhs, Col):
            return False
        column = lookup.lhs
        if column.alias != query.base_table or column.target.model is not queryset.model:
            return False
        found[column.target.attname] = lookup.rhs
    return (
        found.keys() == {"client_id", "active"}
        and type(found["client_id"]) is int
        and found["client_id"] == client_id
        and found["active"] is True
    )


@functools.cache
def _db_columns(model: type[models.Model]) -> dict[str, str]:
    """The database column of each concrete field, by attname."""
    return {field.attname: field.column for field in model._meta.concrete_fields}


def _ordering(query: Query) -> Sequence:
    """The ORDER BY terms of ``query``: its own, else its model's (unless ``order_by()``)."""
    return query.order_by or (query.get_meta().ordering if query.default_ordering else ())


def local_ordering(query: Query) -> list[tuple[str, bool]] | None:
    """The ORDER BY of ``query`` as (column, descending) pairs when it orders by its own table's
    columns only, as Django writes it (a repeated column counts once, ``reverse()`` flips every
    direction); None when ordering needs more (a join, an expression, random order).
    """
    if query.extra_order_by:
        return None
    meta = query.get_meta()
    # By attname: a relation's name would order by the related model's ordering, through a join.
    columns = _db_columns(query.model)
    terms = _ordering(query)
    ordering, seen = [], set()
    for term in terms:
        if not isinstance(term, str):
            return None
        name = term.removeprefix("-")
        attname = meta.pk.attname if name == "pk" else name
        if attname not in columns:
            return None
        column = columns[attname]
        if column not in seen:
            seen.add(column)
            ordering.append((column, term.startswith("-") == query.standard_ordering))
    return ordering


def one_table_shape(query: Query) -> bool:
    """True when ``query`` reads one table with no grouping, annotations or locks."""
    return (
        query.count_active_tables() == 1
        and query.base_table == query.get_meta().db_table
        and not query.annotations
        and not query.distinct
        and not query.extra
        and not query.extra_tables
        and not query.combinator
        and not query.select_related
        and not query.select_for_update
        and query.group_by is None
        and not query.where.contains_aggregate
        and not query.where.contains_over_clause
    )


def single_table(query: Query) -> bool:
    """True when ``query`` reads one table, ordered by its own columns, with no grouping,
    annotations or locks: its SQL is the column list, a WHERE, an ORDER BY and a window.
    """
    return one_table_shape(query) and local_ordering(query) is not None


def select_sql(
    queryset: models.QuerySet,
    columns: Sequence[str],
    alias: str,
    *,
    extra: SqlExpression | None = None,
    order_by_extra: bool = False,
) -> tuple[str, tuple]:
    """The SQL of ``queryset.values_list(*columns)`` (and the ``extra`` expression after them).

    With ``order_by_extra``, the rows are ordered by ``extra`` instead (ascending; descending
    after ``reverse()``, as the ORM orders): ``queryset`` must have no ordering of its own
    (``order_by()``). Raises EmptyResultSet when the query can have no rows.

    Compiling a ``values_list`` builds a join path and an expression per selected column, which
    costs more than running a page query. For the queries lists run (one table, a WHERE, an
    ORDER BY of its own columns, a window) only the WHERE is compiled, by Django's own compiler;
    the column list and the ORDER BY are written directly. Anything else is compiled by Django
    in full.
    """
    query = queryset.query
    if order_by_extra and (
        extra is None or _ordering(query) or query.extra_order_by or query.distinct_fields
    ):
        raise ValueError(
            "order_by_extra needs an extra expression, and a query with no ordering of its own "
            "(order_by()) and no DISTINCT ON"
        )
    ordering = local_ordering(query) if one_table_shape(query) else None
    if ordering is None:
        if extra is not None:
            expression = RawSQL(*extra, output_field=models.BigIntegerField())
            if order_by_extra:
                # Ordered, then windowed as before (a sliced queryset cannot be reordered).
                low, high = query.low_mark, query.high_mark
                unsliced = queryset.all()
                unsliced.query.clear_limits()
                queryset = unsliced.annotate(**{EXTRA: expression}).order_by(EXTRA)[low:high]
                expression = EXTRA
            columns = [*columns, expression]
        values = queryset.values_list(*columns)
        return values.query.get_compiler(using=alias).as_sql()
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(query.base_table)
    column_of = _db_columns(queryset.model)
    selected = [f"{table}.{quote(column_of[name])}" for name in columns]
    params: list = []
    if extra is not None:
        selected.append(extra[0])
        params.extend(extra[1])
    parts = ["SELECT", ", ".join(selected), "FROM", table]
    compiler = query.get_compiler(using=alias)
    try:
        where, where_params = compiler.compile(query.where)
        parts += ["WHERE", where]
        params.extend(where_params)
    except FullResultSet:
        pass
    if order_by_extra:
        # By position: the expression itself, as the planner sees it (an index may serve it).
        parts += ["ORDER BY", str(len(selected)) + ("" if query.standard_ordering else " DESC")]
    elif ordering:
        terms = (f"{table}.{quote(c)} {'DESC' if desc else 'ASC'}" for c, desc in ordering)
        parts += ["ORDER BY", ", ".join(terms)]
    if query.is_sliced:
        parts.append(connection.ops.limit_offset_sql(query.low_mark, query.high_mark))
    return " ".join(parts), tuple(params)
