"""Reads for the recurring-send pages: the list with each rule's next and last time, the
preview of the next times, and the texts of one time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from recurring import rules
from recurring.models import Occurrence, RecurringSend
from smsapp.models import Message
from smsapp.templatetags.smsapp_time import zone_abbreviation

PREVIEW_COUNT = 5


@dataclass(frozen=True)
class PreviewTime:
    """One coming time, as the pages show it."""

    at: datetime  # the instant (shown in the viewer's zone by the template)
    in_rule_zone: str  # "2026-03-09 09:00 EDT"
    note: str  # why it is not at the rule's time, or ""


def recurring_list() -> QuerySet[RecurringSend]:
    """Every recurring send, with its latest recorded time (when, status, texts made)."""
    latest = Occurrence.objects.filter(recurring_send=OuterRef("pk")).order_by("-occurs_at", "-id")
    return RecurringSend.objects.select_related("created_by", "template").annotate(
        last_at=Subquery(latest.values("occurs_at")[:1]),
        last_status=Subquery(latest.values("status")[:1]),
        last_count=Subquery(latest.values("message_count")[:1]),
    )


def last_status_label(status: str | None) -> str:
    return Occurrence.Status(status).label if status else ""


def preview(spec: rules.RuleSpec, *, now: datetime | None = None) -> list[PreviewTime]:
    """The next PREVIEW_COUNT times from now, with what daylight saving did to them."""
    now = now or timezone.now()
    return [_shown(o) for o in rules.next_occurrences(spec, now, PREVIEW_COUNT)]


def _shown(occurrence: rules.Occurrence) -> PreviewTime:
    local = occurrence.local
    note = ""
    if occurrence.shifted:
        note = (
            f"{occurrence.wanted:%H:%M} does not exist that day (the clocks go forward): "
            f"sent at {local:%H:%M}, just after the change"
        )
    elif occurrence.repeated:
        note = (
            f"{occurrence.wanted:%H:%M} happens twice that day (the clocks go back): sent once, "
            f"at the first ({zone_abbreviation(local)})"
        )
    return PreviewTime(
        at=occurrence.at,
        in_rule_zone=f"{local:%Y-%m-%d %H:%M} {zone_abbreviation(local)}",
        note=note,
    )


def occurrences(recurring: RecurringSend) -> QuerySet[Occurrence]:
    return recurring.occurrences.all()


def occurrence_messages(keys: list[str]) -> dict[str, list[Message]]:
    """The texts of each time, by its submission key: one query."""
    found: dict[str, list[Message]] = {key: [] for key in keys}
    for message in Message.objects.filter(submission_key__in=[k for k in keys if k]).order_by("id"):
        found.setdefault(message.submission_key, []).append(message)
    return found
