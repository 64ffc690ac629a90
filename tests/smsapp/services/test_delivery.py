"""smsapp/services/delivery.py: the status check after sending, against the simulator over HTTP.

Every code of docs/delivery-codes.md table is sent through the simulator (failing_numbers gives
the recipient that code) and followed by the status check: failed with the code and its own
reason, or looked at again on the code's schedule, or ended as "sent, no delivery receipt". The
app's clock is real time, so hour-long schedules are asserted on `next_status_check_at` and
then moved in the database instead of waited for.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from smsapp import delivery_codes, reasons, services
from smsapp.backends.ringcentral import RingCentralBackend
from smsapp.delivery_codes import Outcome
from smsapp.models import Message
from smsapp.services.delivery import NO_RECEIPT_AFTER
from tests.support.delivery_table import EXPECTED_CLASS, FINAL_CODES
from tests.support.texts import (
    check_delivery_now,
    create_texts,
    send,
    sent,
)

pytestmark = pytest.mark.django_db
Status = Message.Status
RECIPIENT = "+16505550177"


def _first_status_check(simulator, **simulator_settings) -> Message:
    """A text to RECIPIENT, accepted, then its status checked once the simulator's delivery time
    has passed (configured with `simulator_settings` first: which code the number gets)."""
    simulator.configure(**simulator_settings)
    message = sent(RECIPIENT)
    simulator.advance_clock(10)  # past the simulator's delivered_after_seconds
    return check_delivery_now(message)


def test_delivery_status_moves_sent_to_delivered(sms_settings, simulator):
    [message] = create_texts("+16505550101")
    send(message)
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    assert services.messages_check_delivery() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT  # the simulator still says Queued
    simulator.advance_clock(10)
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.delivered_at is not None


def test_delivery_failure_gets_a_reason(sms_settings, simulator):
    [message] = create_texts("+15005550002")  # the simulator's opted-out number
    send(message)
    simulator.advance_clock(10)
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == "SMS-RC-413"
    assert "opted out" in message.error_reason


def test_status_checks_back_off_and_stop_after_a_day(sms_settings, simulator):
    [message] = create_texts("+16505550101")
    send(message)
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    first_gap = message.next_status_check_at - timezone.now()
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    assert message.next_status_check_at - timezone.now() > first_gap
    Message.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - timedelta(days=2), next_status_check_at=timezone.now()
    )
    services.messages_check_delivery()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.next_status_check_at is None


# -- every code of the table -------------------------------------------------------------------


# What each class's reason must say (docs/delivery-codes.md#classes), compared in lower case.
CLASS_SAYS = {
    "R": ("temporary carrier problem", "retry later"),
    "A": ("admin", "again"),  # who must act, and that sending again later may work
    "C": ("new",),  # the same words fail again: write a new text
    "P": ("again",),  # sending again will not help as it is
}
# An opt-out (any -413) says how it ends: only the recipient can lift it.
OPT_OUT_SAYS = ("replied stop", "text start")


def _final_code(code: str):
    says = OPT_OUT_SAYS if code.endswith("-413") else CLASS_SAYS[EXPECTED_CLASS[code]]
    return pytest.param(code, says, id=code)


@pytest.mark.parametrize(("code", "says"), [_final_code(code) for code in FINAL_CODES])
def test_a_final_code_fails_the_text_with_its_reason(sms_settings, simulator, code, says):
    message = _first_status_check(simulator, failing_numbers={RECIPIENT: code})

    assert message.status == Status.FAILED
    assert message.error_code == code
    reason = message.error_reason
    assert reason == delivery_codes.CODES[code].reason
    assert reason != delivery_codes.generic_reason(code)
    assert message.next_status_check_at is None
    [failed] = message.events.filter(status=Status.FAILED)
    assert (failed.error_code, failed.description) == (code, reason)
    # No automatic resend, whatever the class: one text went out.
    assert simulator.counters()["sms_accepted"] == 1
    assert [words for words in says if words not in reason.lower()] == []


def test_sms_car_410_is_a_retry_later_not_a_landline(sms_settings, simulator):
    entry = delivery_codes.lookup("SMS-CAR-410")
    assert entry.outcome is Outcome.RETRY_LATER
    assert "landline" not in entry.reason.lower()
    assert "invalid" not in entry.reason.lower()
    message = _first_status_check(simulator, failing_numbers={RECIPIENT: "SMS-CAR-410"})
    assert (message.status, message.error_code) == (Status.FAILED, "SMS-CAR-410")
    assert "landline" not in message.error_reason.lower()
    assert "retry later" in message.error_reason.lower()
    # A retry is the staff's choice, and it works: the text can be sent again.
    simulator.configure(failing_numbers={})
    assert services.message_retry(message=message)


def test_sms_car_104_is_looked_at_again_hourly_then_ends_without_a_receipt(sms_settings, simulator):
    entry = delivery_codes.CODES["SMS-CAR-104"]
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-104"})
    message = sent(RECIPIENT)
    simulator.advance_clock(10)
    for look in range(1, entry.look_again_times + 1):
        before = timezone.now()
        message = check_delivery_now(message)
        after = timezone.now()
        assert message.status == Status.SENT, f"look {look}"
        assert before + timedelta(hours=1) <= message.next_status_check_at
        assert message.next_status_check_at <= after + timedelta(hours=1)
        assert message.error_code == ""  # not final yet
    scheduled = message.events.filter(status=Status.SENT, error_code="SMS-CAR-104")
    assert scheduled.count() == entry.look_again_times
    assert "looks again in an hour" in scheduled.first().description

    message = check_delivery_now(message)  # still 104 after the last look: final
    assert message.status == Status.SENT
    assert message.next_status_check_at is None
    assert message.error_code == "SMS-CAR-104"
    assert message.error_reason.startswith("Sent, no delivery receipt")
    assert "SMS-CAR-104" in message.error_reason
    reads = simulator.counters()
    assert services.messages_check_delivery() == 0  # a final text is not looked at again
    assert simulator.counters() == reads


def test_sms_car_104_becomes_delivered_when_the_receipt_comes_later(sms_settings, simulator):
    message = _first_status_check(simulator, failing_numbers={RECIPIENT: "SMS-CAR-104"})
    assert message.status == Status.SENT
    assert message.next_status_check_at > timezone.now() + timedelta(minutes=59)
    simulator.configure(failing_numbers={})  # the carrier's receipt arrives within the hour
    message = check_delivery_now(message)
    assert message.status == Status.DELIVERED


def test_sms_car_199_is_looked_at_once_more_then_ends_as_unknown(sms_settings, simulator):
    assert delivery_codes.CODES["SMS-CAR-199"].look_again_times == 1
    message = _first_status_check(simulator, failing_numbers={RECIPIENT: "SMS-CAR-199"})
    assert message.status == Status.SENT
    assert message.next_status_check_at > timezone.now() + timedelta(minutes=59)
    assert "may have been delivered" in message.events.last().description

    message = check_delivery_now(message)
    assert (message.status, message.next_status_check_at) == (Status.SENT, None)
    assert message.error_code == "SMS-CAR-199"
    assert "no delivery receipt" in message.error_reason
    assert "may have been delivered" in message.error_reason


def test_an_unlisted_code_fails_with_a_reason_naming_it(sms_settings, simulator):
    message = _first_status_check(simulator, failing_numbers={RECIPIENT: "SMS-CAR-999"})
    assert (message.status, message.error_code) == (Status.FAILED, "SMS-CAR-999")
    assert message.error_reason == delivery_codes.generic_reason("SMS-CAR-999")
    assert "SMS-CAR-999" in message.error_reason


def test_sending_failed_ends_the_text_failed_with_its_code(sms_settings, simulator):
    message = _first_status_check(
        simulator, failing_numbers={}, sending_failed_numbers={RECIPIENT: "SMS-RC-413"}
    )
    assert (message.status, message.error_code) == (Status.FAILED, "SMS-RC-413")
    assert message.error_reason == delivery_codes.CODES["SMS-RC-413"].reason
    [record] = simulator.messages()
    assert record["messageStatus"] == "SendingFailed"


# -- no receipt: a bounded wait, then sent without a receipt -----------------------------------


def test_a_look_again_never_goes_past_the_no_receipt_deadline(sms_settings, simulator):
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-104"})
    message = sent(RECIPIENT)
    simulator.advance_clock(10)
    # Sent almost a day ago: the hour-later look is brought forward to the deadline.
    sent_at = timezone.now() - NO_RECEIPT_AFTER + timedelta(minutes=10)
    Message.objects.filter(pk=message.pk).update(sent_at=sent_at)
    message = check_delivery_now(message)
    assert message.next_status_check_at == sent_at + NO_RECEIPT_AFTER
    Message.objects.filter(pk=message.pk).update(sent_at=sent_at - timedelta(minutes=11))
    message = check_delivery_now(message)
    assert (message.next_status_check_at, message.error_code) == (None, "SMS-CAR-104")


def _stays_sent(sms_settings, simulator) -> Message:
    """A text whose record stays Sent for good (the carrier never sends a receipt)."""
    message = _first_status_check(simulator, delivered_after_seconds=1e9)
    assert message.status == Status.SENT
    assert message.next_status_check_at is not None  # polled again, with backoff
    # The bound passes (the app's clock is real: move the sending time back instead).
    Message.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - NO_RECEIPT_AFTER - timedelta(seconds=1)
    )
    return check_delivery_now(message)


def test_a_text_that_stays_sent_ends_as_sent_without_a_receipt(sms_settings, simulator):
    assert timedelta(0) < NO_RECEIPT_AFTER < timedelta(days=2)  # bounded: never polled for ever
    message = _stays_sent(sms_settings, simulator)
    assert message.status == Status.SENT
    assert message.next_status_check_at is None
    assert message.error_code == delivery_codes.NO_RECEIPT_CODE
    assert message.error_reason == delivery_codes.NO_RECEIPT
    assert reasons.NO_STATUS == delivery_codes.NO_RECEIPT
    assert message.events.last().description == delivery_codes.NO_RECEIPT
    reads = simulator.counters()
    assert services.messages_check_delivery() == 0  # not due any more
    assert simulator.counters() == reads


def test_before_the_bound_a_silent_text_is_still_polled_but_never_past_it(sms_settings, simulator):
    simulator.configure(delivered_after_seconds=1e9)
    message = sent(RECIPIENT)
    simulator.advance_clock(10)
    sent_at = timezone.now() - NO_RECEIPT_AFTER + timedelta(seconds=5)
    Message.objects.filter(pk=message.pk).update(sent_at=sent_at, status_checks=30)
    message = check_delivery_now(message)
    assert message.status == Status.SENT
    assert message.error_code == ""
    assert message.next_status_check_at == sent_at + NO_RECEIPT_AFTER  # not 30 min later


def test_a_no_receipt_number_ends_as_sent_without_a_receipt(sms_settings, simulator):
    simulator.configure(no_receipt_numbers=[RECIPIENT])
    message = sent(RECIPIENT)
    simulator.advance_clock(3600)
    message = check_delivery_now(message)
    assert (message.status, message.error_code) == (Status.SENT, "")
    assert message.next_status_check_at is not None
    [record] = simulator.messages()
    assert record["messageStatus"] == "Sent"
    Message.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - NO_RECEIPT_AFTER - timedelta(seconds=1)
    )
    message = check_delivery_now(message)
    assert (message.status, message.next_status_check_at) == (Status.SENT, None)
    assert message.error_code == delivery_codes.NO_RECEIPT_CODE
    assert message.error_reason == delivery_codes.NO_RECEIPT


def test_no_receipt_is_shown_in_words_on_the_pages_and_in_sms_status(
    sms_settings, simulator, sender_client
):
    message = _stays_sent(sms_settings, simulator)
    client = sender_client

    history = client.get(reverse("smsapp:history")).content.decode()
    assert "sent, no delivery receipt" in history
    assert "the carrier never confirmed delivery" in history
    detail = client.get(reverse("smsapp:detail", args=[message.pk])).content.decode()
    assert "sent, no delivery receipt" in detail
    assert "the carrier never confirmed delivery" in detail

    out = io.StringIO()
    call_command("sms_status", str(message.pk), stdout=out)
    assert "Sent, no delivery receipt" in out.getvalue()
    out = io.StringIO()
    call_command("sms_status", str(message.pk), "--json", stdout=out)
    [shown] = json.loads(out.getvalue())
    assert shown["status"] == "sent"
    assert shown["error_code"] == delivery_codes.NO_RECEIPT_CODE
    assert shown["error"].startswith("Sent, no delivery receipt")


# -- the Light group's budget ------------------------------------------------------------------


def test_one_status_check_run_reads_no_more_than_the_backends_light_budget(
    sms_settings, simulator, monkeypatch
):
    # The budget is RingCentral's (its share of the Light group), defined once, on the backend.
    monkeypatch.setattr(RingCentralBackend, "delivery_reads_per_run", 2)
    messages = [sent(f"+1650555019{i}") for i in range(3)]
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        next_status_check_at=timezone.now()
    )
    reads_before = simulator.counters()["requests"].get("Light", 0)
    assert services.messages_check_delivery() == 2
    assert simulator.counters()["requests"]["Light"] - reads_before == 2
    assert services.messages_check_delivery() == 1
