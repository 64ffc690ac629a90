"""The send benchmark's baseline: a task that does nothing but say it ran, run by the project's
own Celery app with the same settings (`celery -A smsapp worker -I bench.noop_tasks`)."""

from __future__ import annotations

import redis
from celery import shared_task
from django.conf import settings

COUNTER = "bench:noop:done"


@shared_task(name="bench.noop", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def noop() -> None:
    # One INCR so the benchmark can tell when the queue is drained: the least a task can do.
    redis.Redis.from_url(settings.REDIS_URL).incr(COUNTER)
