"""The health endpoints in the OpenAPI schema (a postprocessing hook).

They are plain Django views (``health.views``), which drf-spectacular does not see; they are
described here, from the URL configuration, so that the schema is the whole service.
"""

from __future__ import annotations

from health.checks import DEGRADED, HEALTHY, LIVE, UNHEALTHY
from health.urls import urlpatterns

REPORT = {
    "type": "object",
    "description": "A health report. Anonymous callers get status (and, from readiness, ready) "
    "and a note; operators (a staff session or token) get the whole report: servers, lag, "
    "reasons, counts.",
    "properties": {
        "status": {
            "type": "string",
            "enum": [LIVE, HEALTHY, DEGRADED, UNHEALTHY],
            "description": f"{LIVE!r} from liveness; the others from the checks.",
        },
        "ready": {"type": "boolean", "description": "Readiness only: whether to send traffic."},
        "timestamp": {"type": "string", "format": "date-time"},
        "details": {"description": "Anonymous callers: who may see the whole report."},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "error": {"type": "string", "description": "Unhealthy only: what makes it so."},
    },
    "required": ["status"],
    "additionalProperties": True,
}


def _operation(name: str, view) -> dict:
    """The GET of one health endpoint, documented by its view's docstring."""
    summary, _, description = (view.__doc__ or name).partition("\n")
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/HealthReport"}}}
    operation = {
        "operationId": f"health_{name}",
        "summary": summary.strip(),
        "description": description.strip(),
        "tags": ["health"],
        # No credentials needed; a staff token adds the whole report.
        "security": [{}, {"bearerAuth": []}],
        "responses": {"200": {"description": "Healthy or degraded.", "content": content}},
    }
    if name != "live":  # liveness answers whenever the process does
        operation["responses"]["503"] = {
            "description": "Unhealthy (with Retry-After).",
            "content": content,
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    return operation


def add_health_endpoints(result: dict, generator, request, public) -> dict:
    """``GET /health/``, ``/health/ready/``, ``/health/database/``, ``/health/ml/``."""
    result.setdefault("components", {}).setdefault("schemas", {})["HealthReport"] = REPORT
    paths = result.setdefault("paths", {})
    for pattern in urlpatterns:
        path = "/" + str(pattern.pattern).strip("^$").replace("/?", "/")
        name = pattern.name.removeprefix("health-")
        paths[path] = {"get": _operation(name, pattern.callback)}
    return result
