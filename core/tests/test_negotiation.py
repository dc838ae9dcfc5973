"""The negotiation shortcut chooses what DRF's own negotiation chooses."""

from __future__ import annotations

import pytest
from django.http import Http404
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.api.negotiation import JsonFirstNegotiation
from core.api.renderers import OrjsonRenderer

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html,application/xhtml+xml,*/*;q=0.8",
    "application/xml",
]
RENDERER_LISTS = {
    "api": [OrjsonRenderer(), BrowsableAPIRenderer()],
    "schema": [OpenApiYamlRenderer(), OpenApiJsonRenderer()],
}


def choice(negotiation, accept, query, renderers):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/issues", query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except (NotAcceptable, Http404) as error:  # the refusal itself is compared
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_LISTS)
@pytest.mark.parametrize("query", [{}, {"format": "json"}, {"format": "api"}])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_same_choice_as_drf(accept, query, renderers):
    listed = RENDERER_LISTS[renderers]
    ours = choice(JsonFirstNegotiation(), accept, query, listed)
    assert ours == choice(DefaultContentNegotiation(), accept, query, listed)
