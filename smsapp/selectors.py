"""Reads for the pages: filtered history, live statuses."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from smsapp.models import Message

# Before any text this app can have sent.
EARLIEST_DAY = date(2000, 1, 1)
# The largest primary key the database holds (a 64-bit integer). SQLite raises OverflowError
# for a larger one where PostgreSQL finds no row; either way, no message has it.
MAX_MESSAGE_ID = 2**63 - 1
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
_ID = re.compile(r"[0-9]{1,19}", re.ASCII)


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
    # A bound before the first text or after today filters nothing, so it is dropped: that
    # keeps the calendar's far ends from overflowing (9999-12-31 west of UTC is the year 10000
    # in UTC, 0001-01-01 east of it the year 0).
    if day_from and day_from > EARLIEST_DAY:
        messages = messages.filter(created_at__gte=_start_of(day_from))
    if day_to and day_to < timezone.localdate() + timedelta(days=1):
        messages = messages.filter(created_at__lt=_start_of(day_to + timedelta(days=1)))
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


def message_id(text: str) -> int | None:
    """The message id `text` spells, or None if it cannot be one (a word, 0, past 64 bits)."""
    text = text.strip()
    if not _ID.fullmatch(text):
        return None
    pk = int(text)
    return pk if 0 < pk <= MAX_MESSAGE_ID else None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
