"""The alert conditions' state, for admins: when each was last emailed. Written only by the
alerts service."""

from __future__ import annotations

from django.contrib import admin

from monitoring.models import AlertState
from smsapp.admin_readonly import NoHandEdits


@admin.register(AlertState)
class AlertStateAdmin(NoHandEdits, admin.ModelAdmin):
    list_display = ("condition", "last_seen_at", "last_sent_at", "sent_count", "last_subject")
    readonly_fields = (*list_display, "claimed_until")
