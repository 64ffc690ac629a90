"""Admin: recurring sends and their times to look at, with pause and resume as actions (the
services alone change them; the staff pages create and edit them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from recurring.models import Occurrence, RecurringSend
from recurring.services import sends
from smsapp.admin_readonly import NoHandEdits
from smsapp.permissions import SEND_PERMISSION
from smsapp.templatetags.smsapp_time import format_local


def _time_column(field: str, label: str) -> Callable[[Any, Any], str]:
    """A time as the staff pages show it, with its zone (the admin's own format drops it)."""

    @admin.display(description=label, ordering=field)
    def show(model_admin: Any, obj: Any) -> str:
        value: datetime | None = getattr(obj, field)
        return model_admin.get_empty_value_display() if value is None else format_local(value)

    return show


class _SendersMayLook(NoHandEdits):
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever may use the pages may read these here (if they are staff).
        return request.user.has_perm(SEND_PERMISSION)


@admin.register(RecurringSend)
class RecurringSendAdmin(_SendersMayLook, admin.ModelAdmin):
    list_display = ("name", "rule_text", "recipients", "paused", "next_time", "created_by")
    list_filter = ("paused", "kind")
    list_select_related = ("created_by",)
    search_fields = ("name", "text")
    actions = ("pause", "resume")
    fields = (
        "name",
        "rule_text",
        "to_numbers",
        "text",
        "template",
        "paused",
        "next_time",
        "created_by",
        "created",
    )
    readonly_fields = fields
    next_time = _time_column("next_occurrence_at", "next time")
    created = _time_column("created_at", "created")

    @admin.display(description="rule")
    def rule_text(self, obj: RecurringSend) -> str:
        return obj.rule_text

    @admin.display(description="recipients")
    def recipients(self, obj: RecurringSend) -> int:
        return len(obj.to_numbers)

    def has_pause_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SEND_PERMISSION)

    @admin.action(description="Pause the selected recurring sends", permissions=("pause",))
    def pause(self, request: HttpRequest, queryset: QuerySet[RecurringSend]) -> None:
        done = sum(sends.recurring_send_pause(recurring=r, by=request.user) for r in queryset)
        self.message_user(request, f"{done} paused.", messages.SUCCESS)

    @admin.action(description="Resume the selected recurring sends", permissions=("pause",))
    def resume(self, request: HttpRequest, queryset: QuerySet[RecurringSend]) -> None:
        done = sum(sends.recurring_send_resume(recurring=r, by=request.user) for r in queryset)
        self.message_user(request, f"{done} resumed (from their next time on).", messages.SUCCESS)


@admin.register(Occurrence)
class OccurrenceAdmin(_SendersMayLook, admin.ModelAdmin):
    list_display = ("recurring_send", "at", "status", "message_count", "reason")
    list_filter = ("status",)
    search_fields = ("recurring_send__name", "=submission_key")
    list_select_related = ("recurring_send",)
    list_per_page = 50
    at = _time_column("occurs_at", "time")
