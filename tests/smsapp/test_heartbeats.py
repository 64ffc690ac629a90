"""smsapp/heartbeats.py: a worker beats in Redis while it runs and says goodbye when it stops."""

from __future__ import annotations

import pytest
import redis

from smsapp import services
from smsapp.heartbeats import KEY, Heartbeat
from tests.support.texts import create_texts

TO = "+16505550101"


@pytest.mark.django_db
def test_a_clean_shutdown_says_goodbye_and_queues_nothing_again(sms_settings):
    create_texts(TO)
    worker = Heartbeat("celery@host-b")
    worker.start()
    worker.stop()
    assert redis.Redis.from_url(sms_settings.REDIS_URL).zscore(KEY, worker.name) is None
    assert services.messages_requeue_for_dead_workers() == 0
