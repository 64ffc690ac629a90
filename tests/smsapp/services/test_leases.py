"""smsapp/services/leases.py: a sending worker renews its lease while the call runs, so a slow
send is not mistaken for an abandoned one."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from smsapp import services
from smsapp.models import Message
from tests.support.texts import (
    create_texts,
)

Status = Message.Status
TO = "+16505550101"


@pytest.mark.django_db(transaction=True)
def test_a_slow_send_keeps_its_lease_and_is_not_settled_meanwhile(sms_settings, simulator):
    sms_settings.SMS_LEASE_SECONDS = 1.0
    simulator.configure(latency_ms=3000)  # the call outlasts three leases
    [message] = create_texts(TO)
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
