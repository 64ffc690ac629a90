"""Fixtures for the smsapp tests."""

from __future__ import annotations

import pytest

from smsapp.heartbeats import Heartbeat
from smsapp.sending_health import probe_ringcentral, record_dispatcher_run


@pytest.fixture
def fleet(rc_settings, clean_redis):
    """A worker beating, beat's dispatcher running and RingCentral answering, as in a healthy
    deployment; each test then breaks one thing."""
    worker = Heartbeat("celery@test")
    worker._beat()
    record_dispatcher_run()
    probe_ringcentral()
    return worker
