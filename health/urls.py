"""Health URLs (with or without a trailing slash, as probes are configured either way)."""

from django.urls import re_path

from health import views

urlpatterns = [
    re_path(r"^health/?$", views.live, name="health-live"),
    re_path(r"^health/ready/?$", views.ready, name="health-ready"),
    re_path(r"^health/database/?$", views.database, name="health-database"),
    re_path(r"^health/ml/?$", views.ml, name="health-ml"),
]
