"""Beat's materialise task, with real beat and worker processes: a recurring send's time becomes
texts that RingCentral (the simulator) accepts at that time, once each."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from recurring.models import Occurrence
from recurring.services.sends import recurring_send_create
from smsapp.models import Message
from tests.recurring.conftest import NUMBERS, fields_at
from tests.support.processes import process_env, running, start_beat, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def test_beat_turns_a_time_into_texts_sent_at_that_time_once(sms_settings, simulator, tmp_path):
    sms_settings.SMS_FROM_NUMBER = sms_settings.SMS_FROM_NUMBER or "+16505550100"
    env = process_env(sms_settings)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        at = (timezone.now() + timedelta(seconds=6)).replace(microsecond=0)
        recurring = recurring_send_create(fields=fields_at(at), by=None)
        assert recurring.next_occurrence_at == at
        wait_until(lambda: simulator.counters()["sms_accepted"] >= 2, 60, "two texts sent")
        time.sleep(3)  # beat keeps running: nothing more may follow
    assert simulator.counters()["sms_accepted"] == 2
    assert sorted(m["to"][0]["phoneNumber"] for m in simulator.messages()) == sorted(NUMBERS)
    occurrence = Occurrence.objects.get()
    assert (occurrence.occurs_at, occurrence.status) == (at, Occurrence.Status.CREATED)
    texts = Message.objects.filter(submission_key=occurrence.submission_key)
    assert texts.count() == 2
    # Sent at its time, not before (the claim refuses a text before its send_at).
    first_sent = min(e.created_at for m in texts for e in m.events.filter(status="sent"))
    assert first_sent >= at
    recurring.refresh_from_db()
    assert recurring.next_occurrence_at == at + timedelta(days=1)
