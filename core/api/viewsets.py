"""The tenant viewset: the behaviour every domain endpoint shares, written once.

A domain viewset only declares what differs (queryset, serializer, filters, list key).
"""

from __future__ import annotations

import contextlib
import functools

from django.db import transaction
from rest_framework import exceptions, mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.conditional import check_if_match, versioned
from core.api.filters import (
    QueryFilterBackend,
    StrictOrderingFilter,
    multi_valued,
    names_refused,
)
from core.api.idempotency import idempotent
from core.api.pagination import EnvelopePagination
from core.api.params import (
    CommonParamsSerializer,
    ListParamsSerializer,
    TenantScope,
    check_parameter_names,
    resolve_scope,
    validate_query,
)
from core.api.permissions import RolePermission
from core.api.rows import row_plan
from core.api.throttling import CountsFailedAuthentication
from core.counts import counter_sql, tenant_rows_count
from core.db.query_shape import SqlExpression
from core.services import tenant_row_soft_delete

FIELDS = "fields"
COMMON_PARAMETERS = frozenset({"format", *CommonParamsSerializer().fields})
# Query parameters an action takes besides the common ones and (``filtered``) the filters.
ACTION_PARAMETERS = {
    "list": frozenset(
        {"limit", "offset", "cursor", "ordering", "sync", "include_deleted", "fields"}
    ),
    "retrieve": frozenset({"fields"}),
    "similar": frozenset({"limit"}),
}
FILTERED_ACTIONS = frozenset({"list", "similar_search"})


def _release(view, response) -> None:
    """Once the answer is sent: the references that put the view, the answer and its data in a
    reference cycle (the view holds the answer, the answer's renderer context the view).

    Without this, a page's hundred item dicts stay alive until the cyclic garbage collector
    finds them (and traverses them): about 300 objects a list request, 70 with it.
    """
    response.renderer_context = None
    view.__dict__.pop("response", None)


class TenantReadOnlyViewSet(
    CountsFailedAuthentication,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Rows of the caller's client only; strict query parameters; the list envelope."""

    list_key: str = "results"
    default_limit = 100
    max_limit = 1000
    ordering = ("-created_at", "-id")
    ordering_fields: tuple[str, ...] = ("created_at", "last_updated_at", "id")
    permission_classes = (IsAuthenticated, RolePermission)
    filter_backends = (QueryFilterBackend, StrictOrderingFilter)
    lookup_value_regex = r"[0-9]{1,18}"
    scope: TenantScope
    documents_common_parameters = True
    # Lists with ?include_deleted=true: soft-deleted rows too.
    include_deleted = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.pagination_class = type(
            f"{cls.__name__}Pagination",
            (EnvelopePagination,),
            {
                "list_key": cls.list_key,
                "default_limit": cls.default_limit,
                "max_limit": cls.max_limit,
                "ml_fields": cls.has_ml_fields(),
                "extra_schema": cls.list_envelope_extra_schema(),
            },
        )

    @classmethod
    @functools.cache
    def has_ml_fields(cls) -> bool:
        """Whether the rows carry ML fields (``embedding``), which ``include_ml_fields`` adds."""
        queryset = getattr(cls, "queryset", None)
        if queryset is None:
            return False
        return any(field.name == "embedding" for field in queryset.model._meta.get_fields())

    @classmethod
    def list_envelope_extra_schema(cls) -> dict:
        """OpenAPI properties of the keys ``list_envelope_extra()`` adds to the list envelope."""
        return {}

    def list_envelope_extra(self) -> dict:
        """Keys a resource adds to its list envelope."""
        return {}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._resource_closers.append(functools.partial(_release, self, response))
        return response

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        check_parameter_names(
            request, self.known_parameters(self.action), self.repeatable_parameters(self.action)
        )
        self.scope = resolve_scope(request)

    @classmethod
    @functools.cache
    def known_parameters(cls, action: str | None) -> frozenset[str]:
        """The query parameters ``action`` accepts."""
        known = COMMON_PARAMETERS | ACTION_PARAMETERS.get(action, frozenset())
        if action in FILTERED_ACTIONS and getattr(cls, "filterset_class", None) is not None:
            known |= frozenset(cls.filterset_class.base_filters)
        return known

    @classmethod
    @functools.cache
    def repeatable_parameters(cls, action: str | None) -> frozenset[str]:
        """The filters of ``action`` that take several values ("any of")."""
        if action not in FILTERED_ACTIONS:
            return frozenset()
        return multi_valued(getattr(cls, "filterset_class", None))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset().none()
        # A copy: the shared queryset itself is never run (it would keep its rows).
        scope = self.scope
        return self.client_rows(
            scope.client_id, scope.include_ml_fields, self.include_deleted
        ).all()

    @classmethod
    @functools.lru_cache(maxsize=4096)
    def client_rows(cls, client_id: int, include_ml_fields: bool, include_deleted: bool):
        """The client's active rows (and deleted ones with ``include_deleted``): a queryset,
        built once per client and copied per request."""
        rows = (
            {"client_id": client_id}
            if include_deleted
            else {"client_id": client_id, "active": True}
        )
        queryset = cls.queryset.filter(**rows)
        if cls.has_ml_fields() and not include_ml_fields:
            queryset = queryset.defer("embedding")
        return queryset

    def retrieve(self, request, *args, **kwargs):
        fields = self.requested_fields(request)
        row = self.get_object()
        data = self.get_serializer(row).data
        if fields is not None:
            data = {name: data[name] for name in fields}
        return versioned(Response(data), row, self.scope.include_ml_fields, fields)

    @classmethod
    @functools.cache
    def readable_fields(cls, ml: bool) -> tuple[str, ...]:
        """The fields of the items' representation (with or without ML fields), in order."""
        serializer = cls.serializer_class(context={"include_ml_fields": ml})
        return tuple(name for name, field in serializer.fields.items() if not field.write_only)

    def requested_fields(self, request) -> tuple[str, ...] | None:
        """``?fields=a,b``: the fields to answer with, in the representation's order (None: all).
        An unknown or repeated field is a 400 naming ``fields``."""
        raw = request.query_params.get(FIELDS)
        if raw is None:
            return None
        readable = self.readable_fields(self.scope.include_ml_fields)
        names = raw.split(",")
        unknown = [name for name in names if name not in readable]
        choices = f"{', '.join(readable)}, comma-separated"
        refused = names_refused(FIELDS, "field", unknown, names, choices)
        if refused is not None:
            raise refused
        return tuple(name for name in readable if name in names)

    def list(self, request, *args, **kwargs):
        """One page: from plain rows when the serializer allows it (``core.api.rows``)."""
        self.include_deleted = validate_query(request, ListParamsSerializer)["include_deleted"]
        if self.include_deleted and not self.may_see_deleted_rows(request):
            raise exceptions.PermissionDenied("include_deleted: not for your role.")
        fields = self.requested_fields(request)
        queryset = self.filter_queryset(self.get_queryset())
        plan = row_plan(self.get_serializer_class(), self.scope.include_ml_fields)
        if plan is not None:
            if fields is not None:
                plan = plan.only(fields)  # only those columns are read
            page = self.paginator.paginate(queryset, request, self, fetch=plan.fetch)
            return self.paginator.get_paginated_response(page)
        page = self.paginate_queryset(queryset)
        data = self.get_serializer(page, many=True).data
        if fields is not None:
            data = [{name: item[name] for name in fields} for item in data]
        return self.get_paginated_response(data)

    def may_see_deleted_rows(self, request) -> bool:
        """Whether the caller may list soft-deleted rows (``include_deleted``)."""
        return True

    def count_rows(self, queryset) -> int:
        """The exact number of rows of the (filtered) list."""
        return tenant_rows_count(queryset, client_id=self.scope.client_id)

    def count_sql(self, queryset) -> SqlExpression | None:
        """SQL for the exact number of rows of the list, to select with a page; None: count."""
        return counter_sql(queryset, client_id=self.scope.client_id)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        scope = getattr(self, "scope", None)
        context["client_id"] = scope.client_id if scope else None
        if scope is not None:
            # (Without a scope, the schema: it describes the whole representation.)
            context["include_ml_fields"] = scope.include_ml_fields
        return context


class TenantViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantReadOnlyViewSet,
):
    """Read and write rows of the caller's client; writes run in one transaction on the primary.

    PUT accepts a partial body, as the original service did; DELETE is a soft delete. A row being
    changed is locked for the transaction (``select_for_update``): of two concurrent changes the
    second waits, then finds the row as the first left it (deleted: 404).
    """

    http_method_names = ("get", "post", "put", "patch", "delete", "head", "options")
    locks_rows = False

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.locks_rows:
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    @contextlib.contextmanager
    def changing_one_row(self):
        """A transaction in which ``get_object()`` locks the row it returns."""
        with transaction.atomic():
            self.locks_rows = True
            try:
                yield
            finally:
                self.locks_rows = False

    def perform_create(self, serializer) -> None:
        serializer.save(client_id=self.scope.client_id)

    @idempotent
    @transaction.atomic
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        with self.changing_one_row():
            response = super().update(request, *args, **kwargs)
            # The version the change made (the stamp trigger set it in this transaction).
            self.written.refresh_from_db(fields=["change_xid"])
            return versioned(response, self.written, self.scope.include_ml_fields)

    def perform_update(self, serializer) -> None:
        super().perform_update(serializer)
        self.written = serializer.instance

    def destroy(self, request, *args, **kwargs):
        with self.changing_one_row():
            return super().destroy(request, *args, **kwargs)

    def get_object(self):
        """The row, and, when it is about to change, a 412 unless ``If-Match`` names its
        current version (optimistic concurrency: the row is locked, so the check holds)."""
        row = super().get_object()
        if self.locks_rows:
            check_if_match(self.request, row)
        return row

    def perform_destroy(self, instance) -> None:
        tenant_row_soft_delete(row=instance, by=self.request.user)


def api_viewsets() -> list[type[TenantReadOnlyViewSet]]:
    """Every tenant viewset the URL configuration serves, in URL order: what the start-up checks
    and the schema-driven tests cover (a new resource is in as soon as it is routed)."""
    from django.urls import URLResolver, get_resolver

    found: dict[type, None] = {}

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            view = getattr(pattern.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, TenantReadOnlyViewSet):
                found[view] = None

    walk(get_resolver().url_patterns)
    return list(found)
