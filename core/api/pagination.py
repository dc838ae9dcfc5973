"""The list envelope: ``{"<resource>": [...], "count", "total_count", "offset", "limit", ...}``.

Pages are chosen by ``offset`` or, for deep pages, by an opaque ``cursor`` (``core.api.cursors``):
``?cursor=`` (empty) starts at the top, and each page of a cursor listing carries the
``next_cursor`` to pass on (null on the last page). ``total_count`` is always exact.

Every page has an RFC 8288 ``Link`` header: ``first``, and ``next`` (and, by offset, ``prev``)
where there is one.

A sync listing (``?sync=``, empty to begin) serves the rows in change order, never skipping a
change that commits late (``core.changes``), and each page carries ``next_sync``: a token that never runs out. ``more``
says whether another page is ready now; once it is false, keep the token and come back later
for what changed since. With ``include_deleted=true`` soft-deleted rows come too, as tombstones
(``active: false``), so a copy can apply deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core import changes
from core.api import cursors
from core.api.params import page_params_serializer, validate_query
from core.api.rows import Fetched
from core.db.query_shape import SqlExpression, ordering_terms

# A sync listing's order: the transaction that last wrote each row, then the row.
SYNC_ORDERING = ("change_xid", "id")
# Parameters a sync listing has no use for: its order is fixed and its token says where it is.
NOT_WITH_SYNC = ("ordering", cursors.PARAMETER, "offset")

# Fetches a window of a queryset: its items, the values of ``key_fields`` of each row, and the
# list's total when the given SQL for it could be selected with the rows.
PageFetcher = Callable[[QuerySet, Sequence[str], SqlExpression | None], Fetched]


def fetch_instances(
    queryset: QuerySet, key_fields: Sequence[str], total: SqlExpression | None = None
) -> Fetched:
    """The plain fetcher: model instances (for a serializer), and their keys; no total."""
    rows = list(queryset)
    attnames = [queryset.model._meta.get_field(name).attname for name in key_fields]
    keys = [tuple(getattr(row, name) for name in attnames) for row in rows] if attnames else []
    return Fetched(rows, keys)


def _after_token(
    queryset: QuerySet, request, parameter: str, *, ordering, fingerprint: str
) -> tuple[QuerySet, cursors.Cursor | None]:
    """``queryset`` after the position of the token in ``parameter`` (all of it when the token
    is empty), and the decoded token."""
    token = request.query_params[parameter]
    if not token:
        return queryset, None
    cursor = cursors.cursor_decode(
        token,
        model=queryset.model,
        ordering=ordering,
        fingerprint=fingerprint,
        parameter=parameter,
    )
    condition = cursors.keyset_filter(queryset.model, cursor)
    return (queryset.none() if condition is None else queryset.filter(condition)), cursor


class EnvelopePagination(BasePagination):
    """Limit/offset (or cursor) pages in the original service's envelope; bad values are a 400.

    Subclasses (made per viewset) set ``list_key``, ``default_limit``, ``max_limit``,
    ``ml_fields`` (whether rows have ML fields, hence ``ml_fields_included``) and
    ``extra_schema`` (the schema of the keys the view's ``list_envelope_extra()`` adds).
    """

    list_key = "results"
    default_limit = 100
    max_limit = 1000
    ml_fields = True
    extra_schema: dict = {}
    next_cursor: str | None = None
    sync_mode = False

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        return self.paginate(queryset, request, view, fetch=fetch_instances)

    def paginate(self, queryset: QuerySet, request, view, *, fetch: PageFetcher) -> list:
        """One page of ``queryset``, fetched by ``fetch``; remembers what the envelope needs.

        The exact total comes from the page when it is short, else from the SQL of
        ``view.count_sql(queryset)`` selected with the rows, else from ``view.count_rows()``.
        """
        if not queryset.ordered:
            raise ImproperlyConfigured(f"{view.__class__.__name__} lists an unordered queryset")
        self.request = request
        params = validate_query(
            request,
            page_params_serializer(default_limit=self.default_limit, max_limit=self.max_limit),
        )
        self.limit = params["limit"]
        self.extra = view.list_envelope_extra()
        if self.ml_fields:
            self.extra["ml_fields_included"] = view.scope.include_ml_fields
        self.sync_mode = cursors.SYNC_PARAMETER in request.query_params
        self.cursor_mode = cursors.PARAMETER in request.query_params
        if self.sync_mode:
            return self._sync_page(queryset, request, view, fetch)
        if self.cursor_mode:
            return self._cursor_page(queryset, request, view, fetch, skip=params["offset"])
        self.offset = params["offset"]
        window = queryset[self.offset : self.offset + self.limit]
        page, _, total = fetch(window, (), view.count_sql(queryset))
        if len(page) < self.limit and (page or self.offset == 0):
            # A short page tells the total without a COUNT.
            self.total_count = self.offset + len(page)
        else:
            self.total_count = view.count_rows(queryset) if total is None else total
        return page

    def _cursor_page(
        self, queryset: QuerySet, request, view, fetch: PageFetcher, *, skip: int
    ) -> list:
        """The page after the cursor (``skip`` rows further on when ``offset`` is given too)."""
        ordering = ordering_terms(queryset)
        ids = [i for i, term in enumerate(ordering) if str(term).lstrip("-") == "id"]
        if not ids or not all(isinstance(term, str) for term in ordering):
            raise ImproperlyConfigured("cursor pages need an ordering of fields including id")
        # The id is unique: terms after it never decide the order, and the keyset stops there.
        ordering = ordering[: ids[0] + 1]
        fingerprint = cursors.query_fingerprint(
            request.query_params, listing=f"{self.list_key}:{view.scope.client_id}"
        )
        window, cursor = _after_token(
            queryset, request, cursors.PARAMETER, ordering=ordering, fingerprint=fingerprint
        )
        self.offset = (cursor.position if cursor else 0) + skip
        # One row more than the page tells whether another page follows.
        key_fields = [term.lstrip("-") for term in ordering]
        page, keys, total = fetch(
            window[skip : skip + self.limit + 1], key_fields, view.count_sql(queryset)
        )
        self.next_cursor = None
        if len(page) > self.limit:
            page = page[: self.limit]
            last = tuple(cursors.json_value(value) for value in keys[self.limit - 1])
            position = self.offset + self.limit
            self.next_cursor = cursors.cursor_encode(
                cursors.Cursor(ordering, last, position, fingerprint)
            )
        elif self.offset == 0:
            # The whole list fits the first page: it tells the total.
            total = len(page)
        # Otherwise rows before the cursor may have come or gone since it was issued: count.
        self.total_count = view.count_rows(queryset) if total is None else total
        return page

    def _sync_page(self, queryset: QuerySet, request, view, fetch: PageFetcher) -> list:
        """The next page of changes after the ``sync`` token (from the start when empty).

        Only rows stamped below the reading snapshot's ``xmin`` are served: every transaction
        below it has ended, so no row can later appear before the token (``core.changes``).
        """
        given = [name for name in NOT_WITH_SYNC if name in request.query_params]
        if given:
            raise exceptions.ValidationError(
                {
                    name: ["Not with sync: a sync listing is in change order, and its token "
                           "says where the next page starts."]
                    for name in given
                }
            )  # fmt: skip
        filters = sorted(set(request.query_params) & set(view.filterset_class.base_filters))
        if filters:
            raise exceptions.ValidationError(
                {
                    name: ["Not with sync: a row that stopped matching would never be served "
                           "again, and the copy would keep it. Sync everything; filter the copy."]
                    for name in filters
                }
            )  # fmt: skip
        alias = queryset.db
        fingerprint = cursors.query_fingerprint(
            request.query_params,
            listing=f"sync:{self.list_key}:{view.scope.client_id}:{changes.cluster_id(alias)}",
        )
        total_sql = view.count_sql(queryset)
        total_of = queryset
        queryset = queryset.order_by(*SYNC_ORDERING).filter(
            change_xid__lt=RawSQL(changes.HORIZON_SQL, ())
        )
        queryset, cursor = _after_token(
            queryset,
            request,
            cursors.SYNC_PARAMETER,
            ordering=SYNC_ORDERING,
            fingerprint=fingerprint,
        )
        last, self.offset = (0, 0), 0
        if cursor is not None:
            if None not in cursor.values and cursor.values[0] >= changes.next_xid(alias):
                # A standby behind the server that served the token: ask the primary.
                alias = DEFAULT_DB_ALIAS
                queryset = queryset.using(alias)
            if None in cursor.values or cursor.values[0] >= changes.next_xid(alias):
                # Transaction ids the primary has not handed out yet: the token is from
                # before a restore or a failover that lost transactions.
                raise exceptions.ValidationError(
                    {cursors.SYNC_PARAMETER: [
                        "This sync token is ahead of the database (restored or failed over "
                        "since): start again with an empty sync value."
                    ]}
                )  # fmt: skip
            last, self.offset = cursor.values, cursor.position
        # One row more than the page tells whether another page is ready.
        page, keys, total = fetch(queryset[: self.limit + 1], SYNC_ORDERING, total_sql)
        self.more = len(page) > self.limit
        page = page[: self.limit]
        if page:
            last = keys[len(page) - 1]
        self.next_sync = cursors.cursor_encode(
            cursors.Cursor(SYNC_ORDERING, tuple(last), self.offset + len(page), fingerprint)
        )
        self.total_count = view.count_rows(total_of) if total is None else total
        return page

    def get_paginated_response(self, data) -> Response:
        body = {
            self.list_key: data,
            "count": len(data),
            "total_count": self.total_count,
            "offset": self.offset,
            "limit": self.limit,
            **self.extra,
        }
        if self.sync_mode:
            body["next_sync"] = self.next_sync
            body["more"] = self.more
        elif self.cursor_mode:
            body["next_cursor"] = self.next_cursor
        links = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in self.links(len(data)).items())
        return Response(body, headers={"Link": links})

    def links(self, count: int) -> dict[str, str]:
        """RFC 8288 links of this page: ``first``, and ``prev``/``next`` where there is one."""
        url = self.request.build_absolute_uri()
        if self.sync_mode:
            found = {"first": replace_query_param(url, cursors.SYNC_PARAMETER, "")}
            if self.more:
                found["next"] = replace_query_param(url, cursors.SYNC_PARAMETER, self.next_sync)
            return found
        if self.cursor_mode:
            found = {
                "first": remove_query_param(
                    replace_query_param(url, cursors.PARAMETER, ""), "offset"
                )
            }
            if self.next_cursor:
                found["next"] = remove_query_param(
                    replace_query_param(url, cursors.PARAMETER, self.next_cursor), "offset"
                )
            return found
        found = {"first": remove_query_param(url, "offset")}
        if self.offset > 0:
            previous = max(self.offset - self.limit, 0)
            found["prev"] = (
                replace_query_param(url, "offset", previous)
                if previous
                else remove_query_param(url, "offset")
            )
        if self.offset + count < self.total_count:
            found["next"] = replace_query_param(url, "offset", self.offset + self.limit)
        return found

    def get_paginated_response_schema(self, schema: dict) -> dict:
        extra = dict(self.extra_schema)
        if self.ml_fields:
            extra["ml_fields_included"] = {"type": "boolean"}
        return {
            "type": "object",
            "required": [self.list_key, "count", "total_count", "offset", "limit", *extra],
            "properties": {
                self.list_key: schema,
                "count": {"type": "integer", "description": "Items in this page."},
                "total_count": {"type": "integer", "description": "Items in all pages."},
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
                **extra,
                "next_cursor": {
                    "type": "string",
                    "nullable": True,
                    "description": "Only when the request had ?cursor=: pass it as ?cursor= "
                    "for the next page; null on the last page.",
                },
                "next_sync": {
                    "type": "string",
                    "description": "Only when the request had ?sync=: pass it as ?sync= for the "
                    "next page, or keep it and come back later for what changed since.",
                },
                "more": {
                    "type": "boolean",
                    "description": "Only when the request had ?sync=: whether another page is "
                    "ready now.",
                },
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Page size, 1..{self.max_limit}.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_limit,
                    "default": self.default_limit,
                },
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": "Items to skip (with a cursor: items to skip after it).",
                "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "Keyset paging, fast at any depth: empty for the first page, "
                "then the previous page's next_cursor (an opaque token).",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"},
            },
            {
                "name": cursors.SYNC_PARAMETER,
                "in": "query",
                "required": False,
                "description": "Incremental sync: empty to begin, then the previous page's "
                "next_sync. Rows come in change order (a row changed again comes again), never "
                "skipping a change committed late. Not with ordering, cursor, offset or filters.",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"},
            },
            {
                "name": "include_deleted",
                "in": "query",
                "required": False,
                "description": "Include soft-deleted rows, as tombstones (active: false).",
                "schema": {"type": "boolean", "default": False},
            },
        ]
