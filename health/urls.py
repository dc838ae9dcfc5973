"""Health URLs."""

from django.urls import path

from health import views

urlpatterns = [
    path("health", views.live, name="health-live"),
]
