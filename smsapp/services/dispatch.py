"""The dispatcher: queue the send tasks of texts that fall due (scheduled, retrying, lost)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from smsapp.models import Message
from smsapp.services import optouts
from smsapp.services.enqueue import enqueue_on_commit
from smsapp.services.transitions import transition_many
from smsapp.timing import dispatch_horizon

Status = Message.Status
BATCH = 200


def messages_dispatch_due() -> int:
    """Claim messages due before the next run with FOR UPDATE SKIP LOCKED (two dispatchers
    never take the same row), mark them queued, and queue their send tasks after commit, each
    with a countdown to its time (seconds at most: never a long ETA that Redis could deliver
    twice). The claim in message_send still refuses a text before its time. Returns how many."""
    now = timezone.now()
    horizon = now + dispatch_horizon()
    lost_before = now - timedelta(seconds=settings.SMS_REDISPATCH_SECONDS)
    due = (
        Q(status=Status.SCHEDULED, send_at__lte=horizon)
        | Q(status=Status.QUEUED, next_attempt_at__lte=horizon, dispatched_at__isnull=True)
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
            .values_list("id", "status", "send_at", "next_attempt_at", "from_number", "to_number")[
                :BATCH
            ]
        )
        # An opt-out cancels the pair's scheduled texts, but one scheduled while the opt-out
        # was being recorded (each transaction blind to the other) would slip through: the
        # last look, one query, before it goes to the queue.
        opted_out = set(
            _cancel_opted_out(
                [
                    (pk, ours, theirs)
                    for pk, status, _, _, ours, theirs in rows
                    if status == Status.SCHEDULED
                ]
            )
        )
        rows = [
            (pk, status, send_at, next_at)
            for pk, status, send_at, next_at, *_ in rows
            if pk not in opted_out
        ]
        scheduled = [message_id for message_id, status, *_ in rows if status == Status.SCHEDULED]
        retrying = [message_id for message_id, status, *_ in rows if status == Status.QUEUED]
        # Due at its send time, not now: the claim refuses it until then. The rows are locked
        # above, so every scheduled one moves.
        transition_many(
            scheduled,
            from_statuses=[Status.SCHEDULED],
            to=Status.QUEUED,
            event="Due: queued",
            next_attempt_at=F("send_at"),
            dispatched_at=now,
        )
        # Already queued: only handed to the broker again, no change of status.
        Message.objects.filter(pk__in=retrying).update(dispatched_at=now)
        countdowns = {
            message_id: _seconds_until(send_at if status == Status.SCHEDULED else next_at, now)
            for message_id, status, send_at, next_at in rows
        }
        if rows:
            enqueue_on_commit([message_id for message_id, *_ in rows], countdowns=countdowns)
    return len(rows)


def _cancel_opted_out(pairs: list[tuple[int, str, str]]) -> list[int]:
    ids = optouts.scheduled_pairs_opted_out(pairs)
    if not ids:
        return []
    # The rows are locked by the caller: every one of them moves.
    return transition_many(
        ids,
        from_statuses=[Status.SCHEDULED],
        to=Status.CANCELED,
        event="Canceled when due: the recipient opted out (see Opt-outs in the admin)",
    )


def _seconds_until(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (moment - now).total_seconds()) if moment else 0.0
