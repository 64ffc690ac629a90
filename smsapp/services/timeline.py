"""Conditional status changes, each with its event, in one short transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smsapp.models import Message, MessageEvent

logger = logging.getLogger(__name__)
SEND_TASK = "smsapp.send_message"


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
    moved it first. The WHERE on the status is the claim: exactly one caller wins."""
    with transaction.atomic():
        rows = Message.objects.filter(pk=message_id, status__in=list(from_statuses))
        if only_if is not None:
            rows = rows.filter(only_if)
        changed = rows.update(status=to, updated_at=timezone.now(), **fields)
        if changed:
            MessageEvent.objects.create(
                message_id=message_id, status=to, description=event, error_code=event_code
            )
    return changed == 1


def enqueue_send(message_ids: Iterable[int], *, countdowns: dict[int, float] | None = None) -> None:
    """Queue a send task per message, each after its countdown (seconds, for texts due before
    the dispatcher's next run). Called after commit; a broker outage only delays them, because
    the dispatcher re-queues messages whose task never ran."""
    for message_id in message_ids:
        countdown = (countdowns or {}).get(message_id, 0.0)
        try:
            current_app.send_task(
                SEND_TASK, args=[message_id], countdown=countdown if countdown > 0 else None
            )
        except Exception:  # kombu raises several types; the dispatcher is the safety net
            logger.exception("could not queue SMS #%s; the dispatcher will retry", message_id)


def enqueue_on_commit(
    message_ids: list[int], *, countdowns: dict[int, float] | None = None
) -> None:
    transaction.on_commit(lambda: enqueue_send(message_ids, countdowns=countdowns))
