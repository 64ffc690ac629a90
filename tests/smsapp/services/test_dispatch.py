"""smsapp/services/dispatch.py: scheduled texts, retries and lost tasks queued when due, on
the second (a countdown to what falls due before the next run), each move with its event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from smsapp import services
from smsapp.models import Message
from smsapp.timing import dispatch_horizon
from tests.support.texts import (
    create_texts,
    events,
    queued_send_tasks,
    scheduled_in,
)

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_a_scheduled_text_is_dispatched_when_due_and_only_once(sms_settings):
    [message] = create_texts("+16505550101", send_at=timezone.now() + timedelta(hours=1))
    assert message.status == Status.SCHEDULED
    assert services.messages_dispatch_due() == 0
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert services.messages_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert services.messages_dispatch_due() == 0


def test_the_dispatcher_writes_an_event_for_every_text_it_moves(sms_settings):
    texts = create_texts(
        "+16505550101", "+16505550102", send_at=timezone.now() + timedelta(hours=1)
    )
    Message.objects.filter(pk__in=[m.pk for m in texts]).update(send_at=timezone.now())
    assert services.messages_dispatch_due() == 2
    for message in texts:
        assert events(message) == [Status.SCHEDULED, Status.QUEUED]
        assert message.events.last().description == "Due: queued"


def test_a_canceled_text_is_never_dispatched(sms_settings):
    [message] = create_texts("+16505550101", send_at=timezone.now() + timedelta(hours=1))
    assert services.message_cancel(message=message) is True
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert services.messages_dispatch_due() == 0
    assert services.message_send(message_id=message.pk).startswith("skipped")
    message.refresh_from_db()
    assert message.status == Status.CANCELED


def test_a_lost_task_is_dispatched_again(sms_settings):
    [message] = create_texts("+16505550101")
    assert services.messages_dispatch_due() == 0  # its task was queued just now
    Message.objects.filter(pk=message.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=sms_settings.SMS_REDISPATCH_SECONDS + 1)
    )
    assert services.messages_dispatch_due() == 1


# -- on the second: tasks go to the real broker on commit --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_text_due_before_the_next_run_is_queued_now_with_a_countdown(
    default_dispatch_interval, sms_settings
):
    message = scheduled_in(3)
    assert services.messages_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.next_attempt_at == message.send_at  # due at its time, not at dispatch
    [task] = queued_send_tasks(sms_settings)
    assert task["args"] == [message.pk]
    eta = timezone.datetime.fromisoformat(task["eta"])
    assert abs((eta - message.send_at).total_seconds()) < 0.5


@pytest.mark.django_db(transaction=True)
def test_a_text_due_after_the_next_run_waits_for_it(default_dispatch_interval, sms_settings):
    scheduled_in(dispatch_horizon().total_seconds() + 30)
    assert services.messages_dispatch_due() == 0
    assert queued_send_tasks(sms_settings) == []
