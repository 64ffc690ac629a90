"""Root URL configuration."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import RedirectView

from conversations import views as conversation_views
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
        path("settings/", views.user_settings, name="settings"),
    ],
    "smsapp",
)

# No posted password on any error page or report, from the first line of the view on. Django's
# LoginView marks its own dispatch, but the admin's login runs code before reaching it, and both
# sign-ins go through django-axes (smsapp.settings) before the password is checked.
hide_password = sensitive_post_parameters("password")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="smsapp:compose"), name="home"),
    path("", include(app_urls)),
    path("accounts/login/", hide_password(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("conversations/", include("conversations.urls")),
    path("recurring/", include("recurring.urls")),
    path("", include("campaigns.urls")),
    path("monitoring/", include("monitoring.urls")),
    # RingCentral posts replies here (docs/ringcentral.md#inbound-texts): no sign-in, no CSRF
    # token, its own verification token instead.
    path("ringcentral/webhook", conversation_views.ringcentral_webhook, name="ringcentral-webhook"),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    # Prometheus scrapes here with a bearer token (docs/metrics.md).
    path("", include("metrics.urls")),
    # Before admin.site.urls, so it wins over the admin's own "login/" (same view, same name
    # for reverse("admin:login"), which still resolves to this path).
    path("admin/login/", hide_password(admin.site.login)),
    path("admin/", admin.site.urls),
]
