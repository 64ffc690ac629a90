"""smsapp/services/sweep.py: sends a dead or hung worker abandoned are settled (at once when
the lease lapsed, at the backstop age when it is renewed), and a silent worker's tasks queued
again."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from smsapp import services
from smsapp.heartbeats import KEY, Heartbeat
from smsapp.models import Message
from smsapp.timing import stale_sending_seconds
from tests.support.texts import (
    create_texts,
    reconcile_after_settle,
    send,
)

pytestmark = pytest.mark.django_db
Status = Message.Status
TO = "+16505550101"


# -- abandoned sends ---------------------------------------------------------------------------


def _claimed_by_a_worker(message: Message, *, lease_left: float, claimed_ago: float = 1) -> None:
    """As if a worker claimed it `claimed_ago` s ago and its lease runs `lease_left` s more
    (negative: it lapsed, the worker died before calling RingCentral)."""
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING,
        claimed_at=now - timedelta(seconds=claimed_ago),
        lease_holder="elsewhere:1:dead",
        lease_expires_at=now + timedelta(seconds=lease_left),
    )


def test_a_send_whose_lease_lapsed_is_settled_at_once_not_after_an_age(sms_settings, simulator):
    [message] = create_texts("+16505550101")
    _claimed_by_a_worker(message, lease_left=-1, claimed_ago=3)
    assert services.messages_reconcile_stuck() == 1
    message.refresh_from_db()
    # Not in the store, but only just abandoned: it waits out the settle time, then goes.
    assert message.status == Status.UNCERTAIN
    message = reconcile_after_settle(message, sms_settings)
    assert message.status == Status.QUEUED
    message = send(message)
    assert message.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 1


def test_a_send_with_a_live_lease_is_left_alone_until_the_backstop_age(sms_settings):
    [message] = create_texts("+16505550101")
    _claimed_by_a_worker(message, lease_left=60)
    assert services.messages_reconcile_stuck() == 0
    assert services.message_send(message_id=message.pk) == "skipped: still sending"
    # A lease renewed for longer than any attempt can take: the attempt hung; settle it.
    _claimed_by_a_worker(message, lease_left=60, claimed_ago=stale_sending_seconds() + 1)
    assert services.messages_reconcile_stuck() == 1
    message.refresh_from_db()
    assert message.status == Status.UNCERTAIN


# -- tasks a dead worker had reserved ----------------------------------------------------------


@pytest.mark.django_db
def test_texts_a_silent_worker_may_have_reserved_are_queued_again_once(sms_settings):
    [message] = create_texts()  # queued, its task handed to the broker just now
    worker = Heartbeat("celery@host-a")
    worker.start()
    try:
        assert services.messages_requeue_for_dead_workers() == 0  # it is alive
    finally:
        worker._stop.set()  # stops beating without the clean shutdown's goodbye
    silent_since = time.time() - sms_settings.SMS_LEASE_SECONDS - 1
    redis.Redis.from_url(sms_settings.REDIS_URL).zadd(KEY, {worker.name: silent_since})
    dispatched = Message.objects.get(pk=message.pk).dispatched_at
    assert services.messages_requeue_for_dead_workers() == 1
    assert Message.objects.get(pk=message.pk).dispatched_at > dispatched
    assert services.messages_requeue_for_dead_workers() == 0  # each death is handled once


@pytest.mark.django_db
def test_unreadable_heartbeats_raise_nothing_so_the_sweep_goes_on(sms_settings, simulator):
    sms_settings.REDIS_URL = "redis://127.0.0.1:6399/0"  # nothing listens there
    assert services.messages_requeue_for_dead_workers() == 0
