"""Content negotiation with a shortcut for the usual request: JSON, or anything, accepted."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})


class JsonFirstNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, minus parsing the Accept header when the answer is the first renderer.

    A request that accepts ``application/json`` or ``*/*`` (or says nothing), with no
    ``?format=``, gets the view's first renderer when that renderer writes JSON: what DRF's own
    negotiation would choose, without its media-type parsing on every request.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            accept in PLAIN_ACCEPTS
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and renderers
            and renderers[0].media_type == "application/json"
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
