"""The recurring app."""

from __future__ import annotations

from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "recurring"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Recurring sends"
