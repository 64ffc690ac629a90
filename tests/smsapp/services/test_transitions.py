"""smsapp/services/transitions.py: the only code that moves a status; one caller wins, and
each move writes its event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from smsapp import services
from smsapp.models import Message
from smsapp.services.transitions import transition, transition_many
from tests.support.texts import (
    create_texts,
    events,
)

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_transition_many_moves_only_what_nobody_moved_first(sms_settings):
    first, second = create_texts(
        "+16505550101", "+16505550102", send_at=timezone.now() + timedelta(hours=1)
    )
    services.message_cancel(message=second)
    moved = transition_many(
        [first.pk, second.pk], from_statuses=[Status.SCHEDULED], to=Status.QUEUED, event="Due"
    )
    assert moved == [first.pk]
    assert events(first) == [Status.SCHEDULED, Status.QUEUED]
    assert events(second) == [Status.SCHEDULED, Status.CANCELED]


def test_transition_moves_once_with_its_fields_and_writes_its_event_once(sms_settings):
    [message] = create_texts("+16505550101", send_at=timezone.now() + timedelta(hours=1))
    due = timezone.now()
    move = {"from_statuses": [Status.SCHEDULED], "to": Status.QUEUED, "event": "Due"}

    first = transition(message.pk, event_code="X-1", next_attempt_at=due, **move)
    second = transition(message.pk, event_code="X-1", next_attempt_at=due, **move)

    assert (first, second) == (True, False)  # the WHERE on the status lets one caller win
    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (Status.QUEUED, due)
    assert events(message) == [Status.SCHEDULED, Status.QUEUED]
    last = message.events.last()
    assert (last.description, last.error_code) == ("Due", "X-1")


def test_transition_does_nothing_when_its_only_if_condition_fails(sms_settings):
    [message] = create_texts("+16505550101")
    moved = transition(
        message.pk,
        from_statuses=[Status.QUEUED],
        to=Status.CANCELED,
        event="Never written",
        only_if=Q(attempts__gt=0),  # a queued text that has not been tried yet
    )
    assert moved is False
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert events(message) == [Status.QUEUED]


def test_a_transition_that_keeps_the_status_still_writes_its_event(sms_settings):
    # A decision that leaves the text where it is (a delivery check ending "sent, no delivery
    # receipt") is on the timeline all the same.
    [message] = create_texts("+16505550101")
    assert transition(
        message.pk, from_statuses=[Status.QUEUED], to=Status.QUEUED, event="Still waiting"
    )
    assert events(message) == [Status.QUEUED, Status.QUEUED]
    assert message.events.last().description == "Still waiting"
