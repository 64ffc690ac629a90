"""The metrics endpoint, included at the site's root by smsapp.urls."""

from __future__ import annotations

from django.urls import path

from metrics import views

urlpatterns = [path("metrics", views.metrics, name="metrics")]
