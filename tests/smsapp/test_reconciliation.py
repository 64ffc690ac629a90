"""Reconciliation in the formats RingCentral publishes: store dates as `...sssZ`, numbers that
are only "usually" E.164, paged lists, lists that lag, and leases that say who is alive."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.db import connection
from django.utils import timezone

from ringcentral_sim.config import DEFAULT_FROM_NUMBER, REAL_STORE_SETTINGS
from smsapp import services
from smsapp.backends import ringcentral
from smsapp.backends.base import OutgoingSms
from smsapp.backends.ringcentral import matching_records, store_time
from smsapp.heartbeats import KEY, Heartbeat
from smsapp.models import Message
from smsapp.phones import same_number

Status = Message.Status
TO = "+16505550101"


def _create(*numbers: str, text: str = "Your table is ready") -> list[Message]:
    return services.message_create(to_numbers=list(numbers) or [TO], text=text)


def _send(message: Message) -> Message:
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def _settle(message: Message, settings) -> Message:
    """As if the uncertain attempt was longer ago than the settle time, then sweep."""
    ago = timezone.now() - timedelta(seconds=settings.SMS_UNCERTAIN_SETTLE_SECONDS + 1)
    Message.objects.filter(pk=message.pk).update(claimed_at=ago, uncertain_since=ago)
    services.messages_reconcile_stuck()
    message.refresh_from_db()
    return message


def _record(*, to: str, subject: str, sender: str = DEFAULT_FROM_NUMBER, id: int = 1) -> dict:
    """A message-store record shaped as the published definitions allow."""
    return {
        "id": id,
        "direction": "Outbound",
        "type": "SMS",
        "from": {"phoneNumber": sender},
        "to": [{"phoneNumber": to}],
        "subject": subject,
        "creationTime": f"2026-11-30T10:00:{id:02d}.000Z",
    }


# -- formats --------------------------------------------------------------------------------


def test_store_dates_are_utc_with_milliseconds_and_z():
    moment = datetime(2026, 3, 10, 10, 7, 52, 534999, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert store_time(moment) == "2026-03-10T17:07:52.534Z"
    assert store_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "recorded",
    ["+16505550101", "16505550101", "(650) 555-0101", "650-555-0101", "+1 650 555 0101"],
)
def test_a_number_written_any_way_the_store_may_write_it_is_ours(recorded):
    assert same_number(recorded, TO)


@pytest.mark.parametrize("recorded", ["", "+16505550102", "6505550101999", "+446505550101"])
def test_other_numbers_are_not_ours(recorded):
    assert not same_number(recorded, TO)


def test_a_record_matches_whatever_way_it_writes_the_numbers():
    sms = OutgoingSms(DEFAULT_FROM_NUMBER, TO, "Hi")
    records = [
        _record(id=1, to="16505550101", subject="Hi", sender="16505550100"),
        _record(id=2, to="(650) 555-0101", subject="Hi"),
        _record(id=3, to="+16505550199", subject="Hi"),  # someone else
        _record(id=4, to=TO, subject="Hi", sender="+16505550111"),  # another sender
    ]
    assert matching_records(records, sms) == ["1", "2"]


def test_line_endings_and_surrounding_space_do_not_hide_a_text():
    sms = OutgoingSms(DEFAULT_FROM_NUMBER, TO, "Line one\nLine two ")
    assert matching_records([_record(to=TO, subject="Line one\r\nLine two")], sms) == ["1"]


def test_a_shortened_subject_counts_but_after_exact_matches():
    sms = OutgoingSms(DEFAULT_FROM_NUMBER, TO, "A long text " * 20)
    records = [
        _record(id=1, to=TO, subject="A long text A long"),  # shortened by the store
        _record(id=2, to=TO, subject=sms.text),
        _record(id=3, to=TO, subject=""),  # says nothing about the text
        _record(id=4, to=TO, subject="A different text"),
    ]
    assert matching_records(records, sms) == ["2", "1"]


# -- against the simulator in its real-store mode ----------------------------------------


@pytest.mark.django_db
def test_a_dropped_send_recorded_without_plus_and_late_is_found_not_sent_again(
    sms_settings, simulator
):
    simulator.configure(**REAL_STORE_SETTINGS)
    simulator.inject_fault("drop", group="Medium")  # processed, then no answer
    [message] = _create()
    message = _send(message)
    # The list lags: right after the attempt it is not there yet, and that is no proof.
    assert message.status == Status.UNCERTAIN
    time.sleep(REAL_STORE_SETTINGS["store_list_lag_seconds"])
    message = _settle(message, sms_settings)
    assert message.status == Status.SENT
    [stored] = simulator.messages()
    assert message.provider_message_id == str(stored["id"])
    assert simulator.counters()["sms_accepted"] == 1


@pytest.mark.django_db
def test_the_search_follows_the_next_page_links_to_the_end(sms_settings, simulator, monkeypatch):
    monkeypatch.setattr(ringcentral, "STORE_PAGE_SIZE", 2)
    simulator.configure(store_list_lag_seconds=2.0)  # so the first lookup misses it
    simulator.inject_fault("drop", group="Medium")
    [dropped] = _create(text="The one that was dropped")
    dropped = _send(dropped)
    assert dropped.status == Status.UNCERTAIN
    # Five newer texts to the same number: lists are newest first, so ours is on page 3.
    for n in range(5):
        _send(_create(text=f"Newer text {n}")[0])
    time.sleep(2.0)
    before = simulator.counters()["requests"]["Light"]
    dropped = _settle(dropped, sms_settings)
    assert dropped.status == Status.SENT
    assert simulator.counters()["requests"]["Light"] - before == 3
    assert simulator.counters()["sms_accepted"] == 6


@pytest.mark.django_db
def test_a_store_that_refuses_our_dates_leaves_the_text_uncertain_never_resent(
    sms_settings, simulator, monkeypatch
):
    # What the previous form (+00:00, microseconds) got from a strict store: not proof of
    # absence, so nothing is sent again.
    monkeypatch.setattr(ringcentral, "store_time", lambda moment: moment.isoformat())
    simulator.configure(strict_store_dates=True)
    simulator.inject_fault("drop", group="Medium")
    [message] = _create()
    _send(message)
    message = _settle(message, sms_settings)
    assert message.status == Status.UNCERTAIN
    assert simulator.counters()["sms_accepted"] == 1


# -- leases and heartbeats ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_slow_send_keeps_its_lease_and_is_not_settled_meanwhile(sms_settings, simulator):
    sms_settings.SMS_LEASE_SECONDS = 1.0
    simulator.configure(latency_ms=3000)  # the call outlasts three leases
    [message] = _create()
    outcome: dict[str, str] = {}

    def send() -> None:
        try:
            outcome["result"] = services.message_send(message_id=message.pk)
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        time.sleep(2.0)  # two lease lengths into the call
        assert Message.objects.get(pk=message.pk).status == Status.SENDING
        assert services.messages_reconcile_stuck() == 0
    finally:
        sender.join(timeout=20)
    assert outcome["result"].startswith("sent as")
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.lease_expires_at is None  # released with the outcome
    assert simulator.counters()["sms_accepted"] == 1


@pytest.mark.django_db
def test_texts_a_silent_worker_may_have_reserved_are_queued_again_once(sms_settings):
    [message] = _create()  # queued, its task handed to the broker just now
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
def test_a_clean_shutdown_says_goodbye_and_queues_nothing_again(sms_settings):
    _create()
    worker = Heartbeat("celery@host-b")
    worker.start()
    worker.stop()
    assert redis.Redis.from_url(sms_settings.REDIS_URL).zscore(KEY, worker.name) is None
    assert services.messages_requeue_for_dead_workers() == 0


@pytest.mark.django_db
def test_unreadable_heartbeats_raise_nothing_so_the_sweep_goes_on(sms_settings, simulator):
    sms_settings.REDIS_URL = "redis://127.0.0.1:6399/0"  # nothing listens there
    assert services.messages_requeue_for_dead_workers() == 0
