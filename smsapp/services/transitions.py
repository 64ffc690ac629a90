"""Status changes: the only code that moves a message's status, and each move writes its event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from smsapp.models import Message, MessageEvent


def transition(
    message_id: int,
    *,
    from_statuses: Iterable[str],
    to: str,
    event: str,
    event_code: str = "",
    only_if: Q | None = None,
    **fields: Any,
) -> bool:
    """Move a message from one of `from_statuses` to `to`, or do nothing if someone else
    moved it first. The WHERE on the status is the claim: exactly one caller wins. `to` may be
    the status it already has: a decision that keeps it there still gets its event (a
    delivery check that ends "sent, no delivery receipt")."""
    with transaction.atomic():
        changed = _matching([message_id], from_statuses, only_if).update(
            status=to, updated_at=timezone.now(), **fields
        )
        if changed:
            _write_events([message_id], to, event, event_code)
    return changed == 1


def transition_many(
    message_ids: Iterable[int],
    *,
    from_statuses: Iterable[str],
    to: str,
    event: str,
    event_code: str = "",
    only_if: Q | None = None,
    **fields: Any,
) -> list[int]:
    """transition() for many messages at once: moves those still in one of `from_statuses`,
    one event each, and returns their ids (the others were moved by someone else first)."""
    with transaction.atomic():
        # Lock first, then update exactly the locked rows: an UPDATE alone says how many rows
        # moved, not which, and the events must name them. Under the lock PostgreSQL re-checks
        # the WHERE, so a row moved meanwhile by another caller is not among them.
        moved = list(
            _matching(message_ids, from_statuses, only_if)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if moved:
            Message.objects.filter(pk__in=moved).update(
                status=to, updated_at=timezone.now(), **fields
            )
            _write_events(moved, to, event, event_code)
    return moved


def _matching(
    message_ids: Iterable[int], from_statuses: Iterable[str], only_if: Q | None
) -> QuerySet[Message]:
    rows = Message.objects.filter(pk__in=list(message_ids), status__in=list(from_statuses))
    return rows.filter(only_if) if only_if is not None else rows


def _write_events(message_ids: list[int], status: str, event: str, event_code: str) -> None:
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(message_id=i, status=status, description=event, error_code=event_code)
            for i in message_ids
        ]
    )
