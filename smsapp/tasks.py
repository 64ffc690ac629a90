"""Celery tasks: thin wrappers that load by id and call a service."""

from __future__ import annotations

import contextlib

import redis
from celery import shared_task

from smsapp import sending_health, services
from smsapp.services.enqueue import SEND_TASK

# Task names are what the broker stores: renaming one loses every task queued under the old
# name. They stay as they are whatever the functions or modules are called.


# acks_late + reject_on_worker_lost (also the project defaults): a worker killed mid-send
# gives the task back; the claim and the reconciliation make the redelivery harmless.
@shared_task(name=SEND_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_message(message_id: int) -> str:
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
