"""Celery application: configured from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
from typing import Any

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    task_postrun,
    task_prerun,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from smsapp import log_context, log_format, quiet_logs
from smsapp.bootstrap import load_settings_or_exit
from smsapp.heartbeats import Heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsapp.settings")
# At import time, so `celery -A smsapp worker|beat` with a bad config prints one line and exits 1
# instead of failing later inside Celery's startup with a traceback.
load_settings_or_exit()


class SmsCelery(Celery):
    """Celery, with countdowns rounded up to whole seconds on quorum queues (RabbitMQ).

    There a countdown travels by RabbitMQ's native delayed delivery, which counts whole
    seconds: Celery truncates the countdown (a task would arrive early, which the claim refuses,
    and be queued again for the rest) and refuses one below a second outright (ValueError), so a
    text due in 0.4 s would wait for the redispatch timeout. Rounded up, it arrives at its time
    or less than a second after it; never before.
    """

    def send_task(self, name, args=None, kwargs=None, countdown=None, *rest, **options):
        if countdown and countdown > 0 and self.conf.task_default_queue_type == "quorum":
            countdown = math.ceil(countdown)
        return super().send_task(name, args, kwargs, countdown, *rest, **options)


app = SmsCelery("smsapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Each worker process beats in Redis while it runs (smsapp.heartbeats): when one dies without a
# clean shutdown, the sweeper queues the texts whose tasks it may have reserved again at once.
_heartbeat: Heartbeat | None = None


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    global _heartbeat
    _heartbeat = Heartbeat(getattr(sender, "hostname", None) or "worker")
    _heartbeat.start()


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


# Housekeeping that found nothing to do is logged at DEBUG (smsapp.quiet_logs).
after_setup_logger.connect(quiet_logs.install, weak=False)


# Celery gives the worker and beat handlers of its own, in its own format: LOG_FORMAT (text or
# json, smsapp.log_format) and its redaction apply to them too.
@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    from django.conf import settings

    targets = [logging.getLogger()] + ([logger] if logger is not None else [])
    for target in targets:
        log_format.use_format(target.handlers, settings.LOG_FORMAT)


# Each task's lines carry the fields it learns (the RingCentral request id: smsapp.log_context),
# and only its own: the context opens before the task and closes after it.
_task_log_contexts: dict[str, contextlib.AbstractContextManager[None]] = {}


@task_prerun.connect
def _open_log_context(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id is not None:
        context = log_context.log_fields()
        context.__enter__()
        _task_log_contexts[task_id] = context


@task_postrun.connect
def _close_log_context(task_id: str | None = None, **kwargs: Any) -> None:
    context = _task_log_contexts.pop(task_id or "", None)
    if context is not None:
        with contextlib.suppress(ValueError):  # reset from another context: nothing to undo
            context.__exit__(None, None, None)


# A pool process that ends takes its per-process gauges with it (docs/metrics.md); its counters
# stay in PROMETHEUS_MULTIPROC_DIR and keep counting in the sum.
@worker_process_shutdown.connect
def _metrics_process_dead(pid: int | None = None, **kwargs: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())
