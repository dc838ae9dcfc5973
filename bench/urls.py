"""The project's URLs plus the plain-DRF baseline under ``/bench/baseline/``."""

from django.urls import path

from bench.baseline import BaselineIssueViewSet
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    # Before the project's own: its last pattern answers every other path with a 404.
    path("bench/baseline/issues", BaselineIssueViewSet.as_view({"get": "list"})),
    *project_urlpatterns,
]
