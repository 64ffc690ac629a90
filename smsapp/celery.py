"""Celery application: configured from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import os

from celery import Celery

from smsapp.bootstrap import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsapp.settings")
# At import time, so `celery -A smsapp worker|beat` with a bad config prints one line and exits 1
# instead of failing later inside Celery's startup with a traceback.
load_settings_or_exit()

app = Celery("smsapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
