"""The bench serves its plain-DRF baseline beside the project's URLs (``bench/urls.py``)."""

from django.urls import resolve


def test_the_bench_baseline_is_routed_before_the_projects_catch_all():
    match = resolve("/bench/baseline/issues", urlconf="bench.urls")
    assert match.func.cls.__name__ == "BaselineIssueViewSet"
    # The project's own routes are still there.
    assert resolve("/api/issues", urlconf="bench.urls").func.cls.__name__ == "IssueViewSet"
