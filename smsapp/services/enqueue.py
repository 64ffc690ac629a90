"""Handing send tasks to the broker: after commit, each with its countdown."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)
# The task's registered name (smsapp/tasks.py). Never rename it: tasks already queued under
# the old name would be lost.
SEND_TASK = "smsapp.send_message"


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
    """Queue the send tasks once the transaction that made the messages sendable commits: a
    task that ran before would find nothing to claim."""
    transaction.on_commit(lambda: enqueue_send(message_ids, countdowns=countdowns))
