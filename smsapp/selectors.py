"""Reads for the pages: filtered history, live statuses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from smsapp.models import Message


def message_history(
    *,
    status: str = "",
    day_from: date | None = None,
    day_to: date | None = None,
    recipient: str = "",
) -> QuerySet[Message]:
    messages = Message.objects.select_related("created_by").order_by("-created_at", "-id")
    if status:
        messages = messages.filter(status=status)
    if day_from:
        messages = messages.filter(created_at__gte=_start_of(day_from))
    if day_to:
        messages = messages.filter(created_at__lt=_start_of(day_to) + timedelta(days=1))
    if recipient:
        messages = messages.filter(to_number__contains=recipient.strip())
    return messages


def message_statuses(ids: list[int]) -> dict[str, dict[str, Any]]:
    rows = Message.objects.filter(pk__in=ids).values("id", "status", "error_reason")
    return {
        str(row["id"]): {
            "status": row["status"],
            "label": Message.Status(row["status"]).label,
            "error": row["error_reason"] or None,
        }
        for row in rows
    }


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
