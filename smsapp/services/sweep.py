"""The sweeper: settle sends a dead or hung worker abandoned, and re-queue what it had reserved."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smsapp.heartbeats import claim_silent_workers
from smsapp.models import Message
from smsapp.services.enqueue import enqueue_on_commit
from smsapp.services.leases import lease_lapsed
from smsapp.services.sending import message_reconcile
from smsapp.timing import stale_sending_after, uncertain_settle

logger = logging.getLogger(__name__)
Status = Message.Status
BATCH = 200
# How soon after its outcome became unknown an uncertain text is looked up again.
UNCERTAIN_RECHECK = timedelta(seconds=5)


def messages_reconcile_stuck() -> int:
    """Messages abandoned in "sending" (their lease lapsed: the worker died; or, as a backstop,
    older than the slowest attempt) or left "uncertain": settle them against RingCentral's
    message store. Returns how many it looked at."""
    now = timezone.now()
    abandoned = lease_lapsed() | Q(claimed_at__lte=now - stale_sending_after())
    # An uncertain text is looked up once a few seconds after its outcome became unknown
    # (lists lag accepted texts): finding it then is proof at once, so staff see "sent" within
    # seconds. After that, only from the settle time on, when absence is believed too. Looking
    # on every sweep in between spent the Light budget that the other uncertain texts need.
    settle = uncertain_settle()
    early_look = min(UNCERTAIN_RECHECK, settle)
    early_band = Q(
        uncertain_since__lte=now - early_look,
        uncertain_since__gt=now - early_look - timedelta(seconds=settings.SMS_SWEEP_INTERVAL),
    )
    settled_enough = (
        early_band
        | Q(uncertain_since__lte=now - settle)
        | Q(uncertain_since__isnull=True, claimed_at__lte=now - settle)
    )
    stuck = Message.objects.filter(
        (Q(status=Status.SENDING) & abandoned) | (Q(status=Status.UNCERTAIN) & settled_enough)
    ).values_list("id", flat=True)[:BATCH]
    ids = list(stuck)
    for message_id in ids:
        try:
            message_reconcile(message_id=message_id)
        except Exception:  # one bad message must not stop the sweep; it stays for next time
            logger.exception("could not reconcile SMS #%s", message_id)
    return len(ids)


def messages_requeue_for_dead_workers() -> int:
    """A worker that died without a clean shutdown may have reserved send tasks it never ran;
    Redis returns them only after visibility_timeout. Queue a fresh task for every text still
    waiting on one (a duplicate task is harmless: the claim lets one through). Returns how
    many were queued again."""
    try:
        dead = claim_silent_workers()
    except redis.RedisError as error:  # the sweep's other half must still run
        logger.warning("could not read worker heartbeats: %s", error)
        return 0
    if not dead:
        return 0
    logger.warning("worker(s) stopped beating: %s; queuing their waiting texts again", dead)
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED, dispatched_at__isnull=False, next_attempt_at__lte=now)
            .values_list("id", flat=True)
        )
        # Handed to the broker again, no change of status: no event.
        Message.objects.filter(pk__in=ids).update(dispatched_at=now)
        if ids:
            enqueue_on_commit(ids)
    return len(ids)
