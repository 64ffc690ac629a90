"""Django app configuration for auth_tokens."""

from __future__ import annotations

from django.apps import AppConfig


class AuthTokensConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "auth_tokens"
    verbose_name = "RingCentral tokens"
