"""Feeding running bulk sends to RingCentral (beat, every few seconds): a minute's worth at a
time into the pipeline, or one A2P batch request after another."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import A2PBatch, BulkRecipient, BulkSend
from smsapp.backends.ringcentral import sms_limiter
from smsapp.models import Message
from smsapp.services.messages import messages_create_each

Row = BulkRecipient.Status
# Texts of one bulk send in the send queue at once, in minutes of the fleet's pace: enough that
# workers never wait for the feeder, few enough that a pause or a cancel stops it within about
# a minute, and that other people's texts are not stuck behind thousands of queued ones.
QUEUE_AHEAD_MINUTES = 1.0
# The least queued ahead, for very low limits.
QUEUE_AHEAD_AT_LEAST = 10
# One feeder run hands over A2P batches for at most this long; the next run goes on.
A2P_RUN_SECONDS = 20.0
IN_FLIGHT = (Message.Status.QUEUED, Message.Status.SENDING, Message.Status.UNCERTAIN)
logger = logging.getLogger(__name__)


def bulk_feed() -> int:
    """Starts scheduled bulk sends that are due, feeds the running ones, and marks done those
    with nothing left to hand over. Returns the rows handed over."""
    now = timezone.now()
    BulkSend.objects.filter(status=BulkSend.Status.SCHEDULED, send_at__lte=now).update(
        status=BulkSend.Status.RUNNING, updated_at=now
    )
    handed = 0
    for bulk in BulkSend.objects.filter(status=BulkSend.Status.RUNNING).order_by(
        "confirmed_at", "id"
    ):
        if bulk.via == BulkSend.Via.A2P:
            handed += _feed_a2p(bulk)
        else:
            handed += _feed_pipeline(bulk)
        _finish_if_done(bulk)
    return handed


def queue_ahead() -> int:
    return max(QUEUE_AHEAD_AT_LEAST, int(sms_limiter().per_minute() * QUEUE_AHEAD_MINUTES))


def _feed_pipeline(bulk: BulkSend) -> int:
    in_flight = BulkRecipient.objects.filter(
        bulk=bulk, status=Row.MESSAGE, message__status__in=IN_FLIGHT
    ).count()
    room = queue_ahead() - in_flight
    if room <= 0:
        return 0
    with transaction.atomic():
        # Locked and skipped by a second feeder (two beats by mistake, or a slow run): no line
        # can become two texts.
        rows = list(
            BulkRecipient.objects.select_for_update(skip_locked=True)
            .filter(bulk=bulk, status=Row.PENDING)
            .order_by("line")
            .only("pk", "number", "text")[:room]
        )
        if not rows:
            return 0
        created, refused = messages_create_each(
            texts=[(r.number, r.text) for r in rows],
            created_by=bulk.created_by,
            event=f"Queued by bulk send #{bulk.pk}",
        )
        by_number = {m.to_number: m.pk for m in created}
        for row in rows:
            row.message_id = by_number.get(row.number)
            if row.message_id:
                row.status = Row.MESSAGE
            else:  # opted out since the preview
                row.status, row.skip_reason = (
                    Row.CANCELED,
                    "opted out (texted STOP) before it was sent",
                )
        BulkRecipient.objects.bulk_update(rows, ["status", "message", "skip_reason"])
    if refused:
        logger.info("bulk send %s: %d numbers opted out since the preview", bulk.pk, len(refused))
    return len(created)


def _feed_a2p(bulk: BulkSend) -> int:
    from campaigns.services.a2p import a2p_send_next_batch

    handed = 0
    deadline = time.monotonic() + A2P_RUN_SECONDS
    while time.monotonic() < deadline:
        bulk.refresh_from_db(fields=["status"])
        if bulk.status != BulkSend.Status.RUNNING:
            break
        batch = a2p_send_next_batch(bulk=bulk)
        if batch is None:
            break
        if batch.status == A2PBatch.Status.FAILED:
            # RingCentral refused the request itself (the sender lacks A2PSmsSender, the app
            # lacks the permission): every next batch would fail the same way.
            BulkSend.objects.filter(pk=bulk.pk, status=BulkSend.Status.RUNNING).update(
                status=BulkSend.Status.PAUSED, updated_at=timezone.now()
            )
            logger.warning(
                "bulk send %s paused: batch %s refused: %s", bulk.pk, batch.pk, batch.error
            )
            break
        handed += batch.size
        if batch.status != A2PBatch.Status.ACCEPTED:
            break  # uncertain: nothing more from this sender until it is settled
    return handed


def _finish_if_done(bulk: BulkSend) -> None:
    left = BulkRecipient.objects.filter(bulk=bulk).filter(
        Q(status=Row.PENDING) | Q(status=Row.BATCHED)
    )
    if not left.exists():
        BulkSend.objects.filter(pk=bulk.pk, status=BulkSend.Status.RUNNING).update(
            status=BulkSend.Status.DONE, finished_at=timezone.now(), updated_at=timezone.now()
        )
