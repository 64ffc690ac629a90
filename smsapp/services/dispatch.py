"""Periodic work: queue what is due (scheduled or retrying), reconcile what got stuck."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smsapp.models import Message, MessageEvent
from smsapp.services.sending import message_reconcile, stale_sending_after, uncertain_settle
from smsapp.services.timeline import enqueue_on_commit

logger = logging.getLogger(__name__)
Status = Message.Status
BATCH = 200


def messages_dispatch_due() -> int:
    """Claim due messages with FOR UPDATE SKIP LOCKED (two dispatchers never take the same
    row), mark them queued, and queue their send tasks after commit. Returns how many."""
    now = timezone.now()
    lost_before = now - timedelta(seconds=settings.SMS_REDISPATCH_SECONDS)
    due = (
        Q(status=Status.SCHEDULED, send_at__lte=now)
        | Q(status=Status.QUEUED, next_attempt_at__lte=now, dispatched_at__isnull=True)
        | Q(
            status=Status.QUEUED,
            next_attempt_at__lte=now,
            dispatched_at__lte=lost_before,
        )
    )
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("next_attempt_at", "send_at", "id")
            .values_list("id", "status")[:BATCH]
        )
        ids = [message_id for message_id, _ in rows]
        scheduled = [message_id for message_id, status in rows if status == Status.SCHEDULED]
        Message.objects.filter(pk__in=scheduled).update(
            status=Status.QUEUED, next_attempt_at=now, updated_at=now
        )
        Message.objects.filter(pk__in=ids).update(dispatched_at=now)
        MessageEvent.objects.bulk_create(
            [
                MessageEvent(message_id=i, status=Status.QUEUED, description="Due: queued")
                for i in scheduled
            ]
        )
        if ids:
            enqueue_on_commit(ids)
    return len(ids)


def messages_reconcile_stuck() -> int:
    """Messages abandoned in "sending" (a killed worker) or left "uncertain": settle them
    against RingCentral's message store. Returns how many it looked at."""
    now = timezone.now()
    stuck = Message.objects.filter(
        Q(status=Status.SENDING, claimed_at__lte=now - stale_sending_after())
        | Q(status=Status.UNCERTAIN, claimed_at__lte=now - uncertain_settle())
    ).values_list("id", flat=True)[:BATCH]
    ids = list(stuck)
    for message_id in ids:
        try:
            message_reconcile(message_id=message_id)
        except Exception:  # one bad message must not stop the sweep; it stays for next time
            logger.exception("could not reconcile SMS #%s", message_id)
    return len(ids)
