"""Celery application: configured from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, worker_ready, worker_shutdown

from smsapp import quiet_logs
from smsapp.bootstrap import load_settings_or_exit
from smsapp.heartbeats import Heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsapp.settings")
# At import time, so `celery -A smsapp worker|beat` with a bad config prints one line and exits 1
# instead of failing later inside Celery's startup with a traceback.
load_settings_or_exit()

app = Celery("smsapp")
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
