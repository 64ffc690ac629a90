"""The Celery app's worker and beat really start from the project's settings, and stop on
SIGTERM (Celery's warm shutdown). Its configuration alone: tests/smsapp/test_celery.py."""

from __future__ import annotations

import pytest

from smsapp import celery_app
from tests.support.processes import start_beat, start_worker

pytestmark = pytest.mark.processes


def test_worker_starts_answers_ping_and_stops_cleanly_on_sigterm(base_env, tmp_path):
    worker = start_worker(base_env, tmp_path, pool="solo")
    try:
        replies = celery_app.control.ping(destination=[worker.name], timeout=1.0)
        assert replies == [{worker.name: {"ok": "pong"}}], worker.output()
    finally:
        status = worker.stop()
    assert status == 0, worker.output()  # a warm shutdown, not a kill


def test_beat_starts_and_keeps_running(base_env, tmp_path):
    beat = start_beat(base_env, tmp_path)
    try:
        assert beat.proc.poll() is None, beat.output()
    finally:
        beat.stop()
