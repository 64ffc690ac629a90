"""Scheduled texts on the second: the dispatcher queues what falls due before its next run
with a countdown to its time, and the claim still refuses anything not yet due."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from smsapp import services
from smsapp.models import Message
from smsapp.timing import dispatch_horizon

pytestmark = pytest.mark.django_db(transaction=True)  # tasks go to the broker on commit
Status = Message.Status


@pytest.fixture(autouse=True)
def default_interval(sms_settings):
    sms_settings.SMS_DISPATCH_INTERVAL = 5.0  # the default: the horizon is 7.5 s


def _queued_tasks(settings) -> list[dict]:
    """The send tasks waiting in the real broker (Redis list "celery"), with their ETA."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tasks = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        tasks.append({"args": body[0], "eta": message["headers"].get("eta")})
    return tasks


def _schedule(seconds_ahead: float) -> Message:
    [message] = services.message_create(
        to_numbers=["+16505550101"],
        text="On time",
        send_at=timezone.now() + timedelta(seconds=seconds_ahead),
    )
    return message


def test_a_text_due_before_the_next_run_is_queued_now_with_a_countdown(sms_settings):
    message = _schedule(3)
    assert services.messages_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.next_attempt_at == message.send_at  # due at its time, not at dispatch
    [task] = _queued_tasks(sms_settings)
    assert task["args"] == [message.pk]
    eta = timezone.datetime.fromisoformat(task["eta"])
    assert abs((eta - message.send_at).total_seconds()) < 0.5


def test_a_text_due_after_the_next_run_waits_for_it(sms_settings):
    _schedule(dispatch_horizon().total_seconds() + 30)
    assert services.messages_dispatch_due() == 0
    assert _queued_tasks(sms_settings) == []


def test_the_claim_refuses_a_text_before_its_time_and_sends_nothing(sms_settings, simulator):
    message = _schedule(3)
    services.messages_dispatch_due()
    redis.Redis.from_url(sms_settings.CELERY_BROKER_URL).delete("celery")
    # A countdown that ran out early (another host's clock): not sent, queued for its time.
    result = services.message_send(message_id=message.pk)
    assert result.startswith("early by")
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert simulator.counters()["sms_accepted"] == 0
    [task] = _queued_tasks(sms_settings)
    assert task["eta"] is not None


def test_once_its_time_has_come_the_text_is_sent(sms_settings, simulator):
    message = _schedule(3)
    services.messages_dispatch_due()
    Message.objects.filter(pk=message.pk).update(
        send_at=timezone.now(), next_attempt_at=timezone.now()
    )
    assert services.message_send(message_id=message.pk).startswith("sent as")
    assert simulator.counters()["sms_accepted"] == 1
