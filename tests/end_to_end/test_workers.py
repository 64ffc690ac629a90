"""Real Celery workers (Redis or RabbitMQ broker), PostgreSQL and the simulator: exactly once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from smsapp import celery_app, services
from smsapp.models import Message, MessageEvent
from tests.support.processes import process_env, running, start_beat, start_worker, wait_until

# Each test runs with either broker (the `broker` fixture, tests/conftest.py).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.processes,
    pytest.mark.usefixtures("broker"),
]
Status = Message.Status


def _all_in(statuses: set[str], count: int):
    return lambda: Message.objects.filter(status__in=statuses).count() == count


def _numbers(count: int) -> list[str]:
    return [f"+165055502{i:02d}" for i in range(count)]


def _assert_each_arrived_once(simulator, count: int) -> None:
    counters = simulator.counters()
    assert counters["sms_accepted"] == count
    assert counters["sms_duplicates"] == []
    ids = list(Message.objects.values_list("provider_message_id", flat=True))
    assert len(set(ids)) == count


def test_twenty_texts_through_two_workers_each_arrive_exactly_once(
    sms_settings, simulator, tmp_path
):
    env = process_env(sms_settings)
    with running(start_worker(env, tmp_path), start_worker(env, tmp_path)):
        services.message_create(to_numbers=_numbers(20), text="Exactly once, please")
        wait_until(_all_in({Status.SENT}, 20), 60, "all 20 texts to be sent")
    _assert_each_arrived_once(simulator, 20)


def test_a_task_delivered_three_times_sends_once(sms_settings, simulator, tmp_path):
    worker = start_worker(process_env(sms_settings), tmp_path)
    try:
        [message] = services.message_create(to_numbers=["+16505550101"], text="Once")
        for _ in range(2):  # what a redelivery after visibility_timeout looks like
            celery_app.send_task("smsapp.send_message", args=[message.pk])
        wait_until(_all_in({Status.SENT}, 1), 30, "the text to be sent")
        time.sleep(1.0)  # let the duplicates run
    finally:
        worker.stop()
    assert "skipped" in worker.output()
    _assert_each_arrived_once(simulator, 1)


def test_killing_a_worker_mid_run_loses_and_duplicates_nothing(sms_settings, simulator, tmp_path):
    simulator.configure(latency_ms=300)
    env = process_env(sms_settings)
    doomed = start_worker(env, tmp_path)
    services.message_create(to_numbers=_numbers(12), text="Survive a crash")
    try:
        wait_until(lambda: simulator.counters()["sms_accepted"] >= 3, 60, "a few sends")
    finally:
        doomed.kill()  # SIGKILL mid-run: claimed sends and prefetched tasks are abandoned
    assert Message.objects.exclude(status=Status.SENT).exists()
    survivor, beat = start_worker(env, tmp_path), start_beat(env, tmp_path)
    try:
        wait_until(_all_in({Status.SENT}, 12), 90, "every text to be sent after the crash")
    finally:
        survivor.stop()
        beat.stop()
    _assert_each_arrived_once(simulator, 12)


def test_a_429_pauses_every_worker_until_retry_after(sms_settings, simulator, tmp_path):
    simulator.inject_fault("error", group="Medium", status=429, retry_after=3)
    env = process_env(sms_settings)
    processes = start_worker(env, tmp_path), start_beat(env, tmp_path)
    started = time.monotonic()
    with running(*processes):
        services.message_create(to_numbers=_numbers(6), text="Patience")
        wait_until(_all_in({Status.SENT}, 6), 60, "all texts to be sent")
    assert time.monotonic() - started >= 3
    throttled_at = MessageEvent.objects.get(error_code="MSG-305").created_at
    # Without a fleet-wide pause the other five go out at once. With it, only what the other
    # pool process had in flight (or had just taken a slot for) passes before Retry-After ends.
    early = Message.objects.filter(sent_at__lt=throttled_at + timedelta(seconds=2.9))
    assert early.count() <= 2
    assert Message.objects.filter(sent_at__gte=throttled_at + timedelta(seconds=2.9)).exists()
    # One request got the 429 (an injected fault, counted apart); nobody else called during
    # the pause, and after it exactly the six sends.
    counters = simulator.counters()
    assert counters["faults"] == {"error": 1}
    assert counters["requests"]["Medium"] == 6
    _assert_each_arrived_once(simulator, 6)


def test_workers_together_stay_under_ringcentrals_limit(sms_settings, simulator, tmp_path):
    simulator.configure(rate_limits={"Auth": 5, "Medium": 4, "Light": 50, "Heavy": 10})
    env = process_env(sms_settings)
    with running(start_worker(env, tmp_path), start_worker(env, tmp_path)):
        services.message_create(to_numbers=_numbers(10), text="Not too fast")
        wait_until(_all_in({Status.SENT}, 4), 30, "the first four texts")
        wait_until(_all_in({Status.QUEUED}, 6), 30, "the rest to be held back")
        time.sleep(2)
    counters = simulator.counters()
    assert counters["sms_accepted"] == 4
    assert counters["rate_limited"] == {}  # held back by the fleet, not throttled
    held = Message.objects.filter(status=Status.QUEUED)
    assert all(m.next_attempt_at > timezone.now() for m in held)


def test_a_scheduled_text_waits_for_its_time_and_a_canceled_one_never_goes(
    sms_settings, simulator, tmp_path
):
    env = process_env(sms_settings)
    send_at = timezone.now() + timedelta(seconds=4)
    [scheduled] = services.message_create(
        to_numbers=["+16505550101"], text="Later", send_at=send_at
    )
    [canceled] = services.message_create(
        to_numbers=["+16505550102"], text="Never", send_at=timezone.now() + timedelta(seconds=2)
    )
    assert services.message_cancel(message=canceled)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        wait_until(_all_in({Status.SENT}, 1), 30, "the scheduled text")
        time.sleep(1.5)  # several more dispatcher runs
    canceled.refresh_from_db()
    assert canceled.status == Status.CANCELED
    [record] = simulator.messages()
    assert record["to"][0]["phoneNumber"] == "+16505550101"
    # Not before its time, however slow this machine: RingCentral's own acceptance time is
    # compared with send_at, not a check that only runs if the workers started early enough.
    # creationTime has milliseconds: compare with send_at cut to milliseconds too.
    accepted = datetime.fromisoformat(record["creationTime"])
    assert accepted >= send_at.replace(microsecond=send_at.microsecond // 1000 * 1000)
    scheduled.refresh_from_db()
    assert scheduled.claimed_at >= send_at
