"""Exactly once with real workers against the simulator as RingCentral publishes its store:
numbers without "+", strict dates, lists that lag; and recovery within seconds of a SIGKILL."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from ringcentral_sim.config import REAL_STORE_SETTINGS
from smsapp import services
from smsapp.models import Message
from tests.support.processes import (
    process_env,
    running,
    start_beat,
    start_worker,
    use_production_timings,
    wait_until,
)

# Each test runs with either broker (the `broker` fixture, tests/conftest.py).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.processes,
    pytest.mark.usefixtures("broker"),
]
Status = Message.Status


UNSETTLED = (Status.QUEUED, Status.SENDING, Status.UNCERTAIN)


# Limits high enough that pacing does not dominate these tests.
FAST_LIMITS = {"Auth": 5, "Heavy": 10, "Medium": 100_000, "Light": 100_000}


def _numbers(count: int) -> list[str]:
    return [f"+1650555{i:04d}" for i in range(count)]


def _unsettled() -> int:
    return Message.objects.filter(status__in=UNSETTLED).count()


def _outcome(simulator, numbers: list[str]) -> dict[str, int]:
    """Missing and duplicated texts, from what the simulator actually accepted."""
    arrived = Counter("+" + m["to"][0]["phoneNumber"].lstrip("+") for m in simulator.messages())
    return {
        "missing": sum(1 for n in numbers if arrived[n] == 0),
        "duplicates": sum(count - 1 for count in arrived.values() if count > 1),
        "unsettled": _unsettled(),
    }


def _fast(sms_settings) -> None:
    sms_settings.SMS_RATE_LIMIT_PER_MINUTE = 100_000
    sms_settings.SMS_MAX_RECIPIENTS = 1000  # one create for the whole batch


@pytest.mark.timeout(300)
def test_drops_after_processing_against_the_real_store_lose_and_duplicate_nothing(
    sms_settings, simulator, tmp_path
):
    _fast(sms_settings)
    # Longer than the store's lag: absence is believed only once a text would show.
    sms_settings.SMS_UNCERTAIN_SETTLE_SECONDS = 5.0
    simulator.configure(
        **REAL_STORE_SETTINGS,
        rate_limits=FAST_LIMITS,
        drop_rate=0.05,
        fault_groups=["Medium"],  # sends only: store reads answer
        seed=8,
    )
    numbers = _numbers(200)
    env = process_env(sms_settings)
    with running(
        start_worker(env, tmp_path), start_worker(env, tmp_path), start_beat(env, tmp_path)
    ):
        services.message_create(to_numbers=numbers, text="Your order #8 is ready.\nReply STOP")
        wait_until(lambda: _unsettled() == 0, 180, "every text to be sent or failed")
    outcome = _outcome(simulator, numbers)
    dropped = simulator.counters()["faults"].get("drop", 0)
    reconciled = Message.objects.filter(events__status=Status.UNCERTAIN).distinct().count()
    print(f"\n200 texts, {dropped} dropped after processing, {reconciled} reconciled: {outcome}")
    assert dropped >= 5  # the faults really happened
    assert outcome == {"missing": 0, "duplicates": 0, "unsettled": 0}
    assert Message.objects.filter(status__in=[Status.SENT, Status.DELIVERED]).count() == 200
    stored = {str(m["id"]) for m in simulator.messages()}
    assert set(Message.objects.values_list("provider_message_id", flat=True)) == stored


@pytest.mark.timeout(300)
def test_every_text_of_a_killed_worker_settles_within_a_minute(sms_settings, simulator, tmp_path):
    _fast(sms_settings)
    # Production timings: what an operator gets without tuning anything.
    use_production_timings(sms_settings)
    simulator.configure(**REAL_STORE_SETTINGS, rate_limits=FAST_LIMITS, latency_ms=200)
    numbers = _numbers(300)
    env = process_env(sms_settings)
    doomed = start_worker(env, tmp_path, concurrency=4)
    survivor = start_worker(env, tmp_path, concurrency=4)
    beat = start_beat(env, tmp_path)
    with running(doomed, survivor, beat):
        services.message_create(to_numbers=numbers, text="Survive a crash")
        wait_until(lambda: simulator.counters()["sms_accepted"] > 0, 30, "sending to start")
        time.sleep(3)
        in_flight = Message.objects.filter(status=Status.SENDING).count()
        doomed.kill()  # SIGKILL to its process group: no warm shutdown, no requeue
        killed_at = time.monotonic()
        wait_until(lambda: _unsettled() == 0, 120, "every text to settle after the kill")
        recovery = time.monotonic() - killed_at
    outcome = _outcome(simulator, numbers)
    print(
        f"\n300 texts, killed with {in_flight} sending: all settled {recovery:.1f} s after the "
        f"kill; {outcome}"
    )
    assert in_flight > 0  # the kill really caught sends mid-flight
    assert recovery <= 60, _slowest_timelines()
    assert outcome == {"missing": 0, "duplicates": 0, "unsettled": 0}


def _slowest_timelines(count: int = 5) -> str:
    """The last texts to settle, with their timelines: what a failure needs to be read."""
    late = Message.objects.order_by("-updated_at")[:count]
    return "\n".join(
        f"#{m.pk} {m.status}: "
        + "; ".join(f"{e.created_at:%H:%M:%S.%f} {e}" for e in m.events.all())
        for m in late
    )
