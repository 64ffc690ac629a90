"""Django app configuration for the messaging app."""

from __future__ import annotations

from django.apps import AppConfig


class SmsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "smsapp"
    verbose_name = "Text messages"

    def ready(self) -> None:
        from smsapp import checks  # noqa: F401 - registers the timing rules with `check`
