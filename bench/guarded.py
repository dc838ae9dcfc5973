"""The floor plus the guarantees: what a list could cost served outside Django and DRF.

``GuardedFloor`` answers the first page of a client's issues with no framework at all (no
routing of URLs, no middleware, no DRF request or response), but with the project's own calls
for what a served list request does: the request signals (the connections' health and age
checks), the request id, the token checked against its epoch together with the caller's
read-your-writes pin (``ApiTokenAuthentication``, one shared-cache read), the rate limit
(``AuthenticatedThrottle``, counted in the throttle cache), the page read through the database
router in a routing scope (standby choice, failover guard, query deadline: ``RowPlan.fetch``),
the ETag, the metrics and the request-log line. Its body is the endpoint's.

It is a measurement, not a second way to serve the API: it takes only a valid token and
``limit``, and knows nothing of parameters, roles, errors (a refused token or rate limit is an
exception, not a logged 401 or 429), re-runs on another standby, compression or headers (the
rate-limit and security headers among them). Its figure is a lower bound for any design that
keeps these guarantees in this process model: how close to the floor a list served outside
Django and DRF could come.
"""

from __future__ import annotations

import hashlib
import logging
import time
from types import SimpleNamespace
from urllib.parse import parse_qs

import orjson
from django.conf import settings
from django.core import signals
from django.utils.http import quote_etag

from core import logs, metrics, redis_cache
from core.api.renderers import OPTIONS
from core.api.rows import row_plan
from core.api.throttling import AuthenticatedThrottle
from core.counts import counter_sql
from core.db.state import request_scope
from health.request_log import request_fields
from users.authentication import ApiTokenAuthentication

logger = logging.getLogger("health.request_log")
# Its own path in the log: the benchmark counts the endpoint's lines by theirs.
PATH = "/bench/guarded/issues"


class GuardedFloor:
    """Issue list pages with the guarantees' own calls and nothing else."""

    def __init__(self) -> None:
        from issues.serializers import IssueSerializer
        from issues.views import IssueViewSet

        self.viewset = IssueViewSet
        self.plan = row_plan(IssueSerializer, False)
        self.authentication = ApiTokenAuthentication()

    def page(self, authorization: str, limit: int = 100) -> tuple[bytes, str]:
        """The page's body and its ETag, as the endpoint answers them (``authorization``: the
        ``Authorization`` header)."""
        started = time.perf_counter()
        request = SimpleNamespace(
            headers={"authorization": authorization},
            META={"HTTP_AUTHORIZATION": authorization, "REMOTE_ADDR": "127.0.0.1"},
            method="GET",
            path=PATH,
            resolver_match=None,
        )
        signals.request_started.send(sender=GuardedFloor)
        request_id = logs.request_id_for(None)
        logs.request_id.set(request_id)
        redis_cache.count_request_failures()
        with request_scope(read_deadline=settings.REPLICA_READ_TIMEOUT) as routing:
            request.db_routing = routing
            found = self.authentication.authenticate(request)
            if found is None:
                raise RuntimeError("the guarded floor takes a token")
            request.user = user = found[0]
            if not AuthenticatedThrottle().allow_request(request, None):
                raise RuntimeError("the guarded floor's caller is rate limited")
            rows = self.viewset.client_rows(user.client_id, False, False).all()
            fetched = self.plan.fetch(rows[:limit], (), counter_sql(rows, client_id=user.client_id))
        items = fetched.items
        total = fetched.total if len(items) == limit else len(items)
        body = orjson.dumps(
            {
                "issues": items,
                "count": len(items),
                "total_count": total,
                "offset": 0,
                "limit": limit,
                "ml_fields_included": False,
            },
            option=OPTIONS,
        )
        etag = quote_etag(hashlib.sha256(body).hexdigest())
        seconds = time.perf_counter() - started
        response = SimpleNamespace(status_code=200)
        metrics.observe_request(request, response, seconds)
        fields = request_fields(request, response, seconds * 1000)
        logger.info("GET %s 200", PATH, extra={"request_fields": fields})
        signals.request_finished.send(sender=GuardedFloor)
        return body, etag

    def wsgi(self, environ: dict, start_response) -> list[bytes]:
        """``GET /bench/guarded/issues?limit=`` with a bearer token, as a WSGI app."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        body, etag = self.page(
            environ.get("HTTP_AUTHORIZATION", ""), int(query.get("limit", ["100"])[0])
        )
        start_response("200 OK", [("Content-Type", "application/json"), ("ETag", etag)])
        return [body]
