"""Feeding a running bulk send into the pipeline: a minute's worth at a time, each line once,
opt-outs since the preview left out, cancel stopping what has not gone out."""

from __future__ import annotations

import io
import threading
from collections import Counter

import pytest

from campaigns.models import BulkRecipient, BulkSend
from campaigns.services import feed
from campaigns.services.bulk import bulk_cancel, bulk_confirm, bulk_create_from_csv, bulk_pause
from campaigns.services.feed import bulk_feed
from harness.contacts import TEXT, contacts_csv, e164
from smsapp.models import Message, OptOut
from smsapp.services.optouts import optout_add
from smsapp.services.sending import message_send
from tests.support.concurrency import run_in_threads

Row = BulkRecipient.Status


@pytest.fixture
def running(sms_settings, db):
    sms_settings.SMS_A2P_FROM_NUMBER = ""
    sms_settings.SMS_RATE_LIMIT_PER_MINUTE = 20  # a minute's worth: 20 texts

    def make(count: int = 50) -> BulkSend:
        bulk = bulk_create_from_csv(
            file=io.BytesIO(contacts_csv(count)), file_name="l.csv", text=TEXT, created_by=None
        )
        bulk_confirm(bulk=bulk)
        return bulk

    return make


def test_the_feeder_queues_a_minutes_worth_and_more_as_texts_go_out(running):
    bulk = running(50)
    assert bulk_feed() == 20
    assert bulk_feed() == 0  # the queue is full
    for message in Message.objects.order_by("id")[:5]:
        message_send(message_id=message.pk)
    assert bulk_feed() == 5
    texts = list(Message.objects.values_list("to_number", "text"))
    assert len(texts) == len(set(texts)) == 25
    row = BulkRecipient.objects.get(bulk=bulk, line=2)
    assert (row.status, row.message.to_number) == (Row.MESSAGE, e164(0))
    assert row.message.text.startswith("Hi Ana,")


def test_a_number_that_opted_out_after_the_preview_is_not_texted(running):
    bulk = running(5)
    optout_add(our_number="+16505550100", their_number=e164(1), source=OptOut.Source.KEYWORD)
    bulk_feed()
    row = BulkRecipient.objects.get(bulk=bulk, number=e164(1))
    assert row.status == Row.CANCELED
    assert "opted out" in row.skip_reason
    assert not Message.objects.filter(to_number=e164(1)).exists()


def test_when_every_line_is_handed_over_the_send_is_done(running):
    bulk = running(5)
    bulk_feed()
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.DONE


def test_a_paused_send_gets_nothing_more_until_resumed(running):
    bulk = running(30)
    bulk_pause(bulk=bulk)
    assert bulk_feed() == 0
    assert not Message.objects.exists()


def test_cancel_stops_the_queued_texts_no_worker_has_claimed(running):
    bulk = running(50)
    bulk_feed()
    first = Message.objects.order_by("id").first()
    message_send(message_id=first.pk)  # this one went out
    canceled = bulk_cancel(bulk=bulk)
    assert canceled == 30 + 19  # waiting lines + queued texts
    statuses = Counter(Message.objects.values_list("status", flat=True))
    assert statuses == {"sent": 1, "canceled": 19}
    # the send task of a canceled text does nothing
    second = Message.objects.filter(status=Message.Status.CANCELED).first()
    message_send(message_id=second.pk)
    second.refresh_from_db()
    assert second.status == Message.Status.CANCELED


@pytest.mark.django_db(transaction=True)
def test_two_feeders_at_once_never_make_two_texts_of_one_line(sms_settings, monkeypatch):
    """Both feeders pass the room check before either takes rows (a barrier holds them): the
    row locks (skip_locked) must keep each line to one text. Without them, 40 texts."""
    sms_settings.SMS_A2P_FROM_NUMBER = ""
    sms_settings.SMS_RATE_LIMIT_PER_MINUTE = 20
    bulk = bulk_create_from_csv(
        file=io.BytesIO(contacts_csv(40)), file_name="l.csv", text=TEXT, created_by=None
    )
    bulk_confirm(bulk=bulk)
    barrier = threading.Barrier(2, timeout=10)
    real = feed.queue_ahead

    def together() -> int:
        barrier.wait()
        return real()

    monkeypatch.setattr(feed, "queue_ahead", together)
    _, errors = run_in_threads(bulk_feed)
    assert errors == []
    numbers = list(Message.objects.values_list("to_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert BulkRecipient.objects.filter(bulk=bulk, status=Row.MESSAGE).count() == len(numbers)


def test_a_scheduled_send_waits_for_its_time_then_goes(sms_settings, db):
    from datetime import timedelta

    from django.utils import timezone

    sms_settings.SMS_A2P_FROM_NUMBER = ""
    bulk = bulk_create_from_csv(
        file=io.BytesIO(contacts_csv(3)), file_name="l.csv", text=TEXT, created_by=None
    )
    assert bulk_confirm(bulk=bulk, send_at=timezone.now() + timedelta(hours=2))
    assert bulk_feed() == 0
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.SCHEDULED
    BulkSend.objects.filter(pk=bulk.pk).update(send_at=timezone.now() - timedelta(seconds=1))
    assert bulk_feed() == 3
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.DONE
