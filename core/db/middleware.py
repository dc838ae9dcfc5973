"""Per-request database routing: a routing scope, read-your-writes positions, re-running a request
whose standby failed under it, and 503 when the database is down.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from core import metrics
from core.db.failover import ServerUnavailable, sqlstate
from core.db.replicas import primary_wal_position, wait_until_replayed_everywhere
from core.db.state import RoutingState, current, pin_user, request_scope

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = "The database is unavailable; retry shortly."
# The server failed after the request had begun writing: what it wrote may have been stored.
MAYBE_STORED_DETAIL = (
    "The database stopped answering while this request was writing: the change may or may not "
    "have been stored. Read it back before retrying."
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

QUERY_CANCELED = "57014"  # statement_timeout


def database_error_response(error: Exception) -> JsonResponse:
    """The 503 a client sees when the database cannot serve the request.

    A query stopped by ``statement_timeout`` says so (and has no ``Retry-After``: the same
    request would take as long again); anything else is the database being unavailable.
    """
    if sqlstate(error) == QUERY_CANCELED:
        logger.warning("query stopped by statement_timeout")
        return JsonResponse(
            {"detail": "The request took too long to answer; narrow it (filters, a smaller page)."},
            status=503,
        )
    logger.error("database unavailable: %s", type(error).__name__)
    # A query that failed under way after the request began writing (not a connection that
    # could not be opened: nothing was sent then).
    maybe_stored = isinstance(error, ServerUnavailable) and current().wrote
    detail = MAYBE_STORED_DETAIL if maybe_stored else UNAVAILABLE_DETAIL
    response = JsonResponse({"detail": detail}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _reads_only(request: HttpRequest, view_func) -> bool:
    """Safe methods, and actions a view declares as reads (a search that POSTs its vector)."""
    if request.method in SAFE_METHODS:
        return True
    actions = getattr(view_func, "actions", None) or {}
    action = actions.get((request.method or "").lower())
    return action is not None and action in getattr(
        getattr(view_func, "cls", None), "read_actions", ()
    )


class DatabaseRoutingMiddleware:
    """Open a routing scope per request; pin users who wrote to their WAL position; re-run a
    read-only request whose standby failed under it on another server.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        session_user = session.get(SESSION_KEY) if session is not None else None
        with request_scope(
            user_id=int(session_user) if session_user else None,
            read_deadline=settings.REPLICA_READ_TIMEOUT,
        ) as state:
            # Until the view says it only reads, a request that may write validates against
            # the primary.
            state.primary_reads = request.method not in SAFE_METHODS
            request.db_routing = state
            response = self.get_response(request)
            if state.wrote:
                # Even after an error: what the request wrote may have been stored.
                user = getattr(request, "user", None)
                user_id = state.user_id or (user.pk if user and user.is_authenticated else None)
                if user_id is not None:
                    # Read-your-writes for this user's next requests, in every process.
                    position = primary_wal_position()
                    if not pin_user(user_id, position) and position is not None:
                        # The cache could not say so: the standbys will have it instead.
                        self._wait_for_standbys(position)
        return response

    @staticmethod
    def _wait_for_standbys(position: int) -> None:
        try:
            wait_until_replayed_everywhere(position)
        except Exception:  # the write succeeded: waiting must never turn it into an error
            logger.warning("could not wait for the standbys to replay a write", exc_info=True)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        state: RoutingState = request.db_routing
        if _reads_only(request, view_func):
            state.primary_reads = False
            state.retryable = True
            view = getattr(view_func, "cls", None)
            if view is not None:
                state.read_only_view = view.__name__
            if request.method not in SAFE_METHODS:
                # Read the body now, so that a re-run can read it again.
                request.body  # noqa: B018

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ServerUnavailable):
            return self._run_elsewhere(request, exception)
        if isinstance(exception, OperationalError | InterfaceError):
            return database_error_response(exception)
        return None

    def _run_elsewhere(self, request: HttpRequest, failure: ServerUnavailable) -> HttpResponse:
        """Re-run the view: the failed server is down now, so its reads go elsewhere. Each
        failure takes one server out, so this ends: with every standby out, the primary answers,
        and with the primary out too, a lagging standby does.
        """
        state: RoutingState = request.db_routing
        match = request.resolver_match
        if not state.retryable or state.wrote or match is None:
            return database_error_response(failure)
        while state.attempts <= len(settings.DATABASE_STANDBYS):
            state.attempts += 1
            metrics.count(metrics.RETRIES)
            logger.warning("%s %s re-run elsewhere: %s", request.method, request.path, failure)
            try:
                response = match.func(request, *match.args, **match.kwargs)
            except ServerUnavailable as again:
                failure = again
                continue
            except (OperationalError, InterfaceError) as error:
                return database_error_response(error)
            # A failure while rendering lands here too, and Django renders no response that
            # replaces one that failed to render.
            render = getattr(response, "render", None)
            return render() if callable(render) else response
        return database_error_response(failure)
