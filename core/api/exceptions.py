"""One exception handler: Django and database errors become DRF responses, never a bare 500."""

from __future__ import annotations

import functools
import logging

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, models
from django.http import Http404, HttpRequest, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.db.failover import ServerUnavailable
from core.db.middleware import database_error_response

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """409: the request conflicts with stored data; ``fields`` names the fields involved."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the item."
    default_code = "conflict"

    def __init__(self, detail: str | None = None, *, fields: list[str] | None = None) -> None:
        super().__init__(detail)
        self.fields = fields or []


def _conflict(detail: str, fields: list[str]) -> Response:
    body = {"detail": detail, **({"fields": fields} if fields else {})}
    return Response(body, status.HTTP_409_CONFLICT)


@functools.cache
def _constraints_by_name() -> dict[str, models.BaseConstraint]:
    return {
        constraint.name: constraint
        for model in apps.get_models()
        for constraint in model._meta.constraints
    }


def _conflict_details(exc: IntegrityError) -> tuple[str, list[str]]:
    """Say which constraint the request broke, in the model's own words."""
    diag = getattr(exc.__cause__, "diag", None)
    constraint = _constraints_by_name().get(getattr(diag, "constraint_name", None) or "")
    if isinstance(constraint, models.UniqueConstraint):
        return constraint.violation_error_message, list(constraint.fields)
    return "The request conflicts with existing data (a unique or related value).", []


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map Django, validation and database errors onto DRF responses."""
    if isinstance(exc, Conflict):
        return _conflict(str(exc.detail), exc.fields)
    if isinstance(exc, ServerUnavailable):
        # The routing middleware re-runs the request on another server.
        return None
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, OperationalError | InterfaceError):
        return database_error_response(exc)
    elif isinstance(exc, IntegrityError):
        logger.debug("integrity error: %s", type(exc.__cause__).__name__)
        return _conflict(*_conflict_details(exc))
    elif isinstance(exc, DataError):
        logger.debug("data error: %s", type(exc.__cause__).__name__)
        return Response(
            {"detail": f"A value is out of range or not storable: {str(exc).splitlines()[0]}"},
            status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.MethodNotAllowed) and response is not None:
        # The body names what is allowed, as the Allow header does.
        view = context.get("view")
        response.data["allowed"] = list(getattr(view, "allowed_methods", ()))
    return response


def _admin_page(request) -> bool:
    """The admin is an HTML site: its errors stay Django's pages; every other path answers JSON."""
    return request.path.startswith("/admin/")


def not_found(request, exception=None):
    """404 for URLs that match nothing: JSON, but for the admin's own pages (an HTML site)."""
    if not _admin_page(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def method_not_allowed(request, allowed: tuple[str, ...]) -> JsonResponse:
    """405 as JSON, with the ``Allow`` header."""
    response = JsonResponse(
        {"detail": f'Method "{request.method}" not allowed.', "allowed": list(allowed)}, status=405
    )
    response["Allow"] = ", ".join(allowed)
    return response


SAFE_METHODS = ("GET", "HEAD")


def read_only_json(view):
    """GET and HEAD only, any other method a JSON 405; no CSRF check, since nothing is changed."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return method_not_allowed(request, SAFE_METHODS)
        return view(request, *args, **kwargs)

    return wrapper


def csrf_failure(request, reason: str = ""):
    """403 for a session-authenticated unsafe request without its CSRF token (``CSRF_FAILURE_VIEW``):
    JSON, but for the admin's pages."""
    if not _admin_page(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}"}, status=403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason)


def bad_request(request, exception=None):
    """400 for requests Django refuses before any view (a bad Host header, say)."""
    if not _admin_page(request):
        return JsonResponse({"detail": "Bad request (headers)."}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request):
    """500: JSON (but for the admin's pages), so clients always get the content type they
    expect."""
    if not _admin_page(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
