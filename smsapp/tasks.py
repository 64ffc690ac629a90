"""Celery tasks: thin wrappers that load by id and call a service."""

from __future__ import annotations

import contextlib
import logging

import redis
from celery import shared_task

from smsapp import sending_health, services
from smsapp.backends.base import SmsError
from smsapp.log_context import log_fields
from smsapp.services import optouts
from smsapp.services.enqueue import SEND_TASK

logger = logging.getLogger(__name__)

# Task names are what the broker stores: renaming one loses every task queued under the old
# name. They stay as they are whatever the functions or modules are called.


# acks_late + reject_on_worker_lost (also the project defaults): a worker killed mid-send
# gives the task back; the claim and the reconciliation make the redelivery harmless.
@shared_task(name=SEND_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_message(message_id: int) -> str:
    # Every line logged during the send names the text, the token service's included.
    with log_fields(message_id=message_id):
        return services.message_send(message_id=message_id)


@shared_task(name="smsapp.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    queued = services.messages_dispatch_due()
    # A health fact: beat and a worker are alive (smsapp.sending_health).
    with contextlib.suppress(redis.RedisError):
        sending_health.record_dispatcher_run()
    return queued


@shared_task(name="smsapp.probe_ringcentral", ignore_result=True)
def probe_ringcentral() -> str:
    return sending_health.probe_ringcentral()


@shared_task(name="smsapp.reconcile_stuck", ignore_result=True)
def reconcile_stuck() -> int:
    # First the texts a dead worker had reserved (queued again), then abandoned sends.
    return services.messages_requeue_for_dead_workers() + services.messages_reconcile_stuck()


@shared_task(name="smsapp.check_delivery", ignore_result=True)
def check_delivery() -> int:
    return services.messages_check_delivery()


@shared_task(name=optouts.PUSH_TASK, ignore_result=True)
def push_consents() -> str:
    """Queued after a staff opt-out change commits; sync_consents pushes too, so an error here
    only waits for its next run."""
    try:
        return f"pushed {optouts.consents_push()} pairs"
    except SmsError as error:
        logger.info("consents push waits for the next sync: %s", error.reason)
        return f"not pushed: {error.reason}"


@shared_task(name="smsapp.sync_consents", ignore_result=True)
def sync_consents() -> str:
    """Beat: staff changes to RingCentral first (its list would otherwise undo them here), then
    RingCentral's opt-out list into ours (services.optouts)."""
    try:
        optouts.consents_push()
        result = optouts.consents_sync()
    except SmsError as error:
        # A 403 is recorded (consents_access) and the local list goes on working alone.
        logger.info("consents sync skipped: %s", error.reason)
        return f"not synced: {error.reason}"
    return f"listed {result.listed}, added {result.added}, removed {result.removed}"
