"""Root URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from smsapp import health, views

app_urls = (
    [
        path("compose/", views.compose, name="compose"),
        path("compose/preview/", views.compose_preview, name="compose-preview"),
        path("messages/", views.history, name="history"),
        path("messages/status.json", views.statuses, name="statuses"),
        path("messages/<int:pk>/", views.message_detail, name="detail"),
        path("messages/<int:pk>/cancel/", views.message_cancel, name="cancel"),
        path("messages/<int:pk>/retry/", views.message_retry, name="retry"),
    ],
    "smsapp",
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="smsapp:compose"), name="home"),
    path("", include(app_urls)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("admin/", admin.site.urls),
]
