"""Delivery outcomes from RingCentral's error-code table, against the simulator over HTTP.

Every code of docs/delivery-codes.md table is sent through the simulator
(failing_numbers gives the recipient that code) and followed by the status check: failed with
the code and its own reason, or looked at again on the code's schedule, or ended as "sent, no
delivery receipt". The app's clock is real time, so hour-long schedules are asserted on
`next_status_check_at` and then moved in the database instead of waited for.
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

pytestmark = pytest.mark.django_db
Status = Message.Status
RECIPIENT = "+16505550177"

# docs/delivery-codes.md#the-table, copied by hand: the table the module must match.
EXPECTED_CLASS = {
    "SMS-RC-403": "A",
    **dict.fromkeys(("SMS-RC-410", "SMS-UP-410", "SMS-UP-411", "SMS-UP-412", "SMS-CAR-411"), "P"),
    **dict.fromkeys(("SMS-RC-413", "SMS-UP-413", "SMS-CAR-413"), "P"),
    **dict.fromkeys(("SMS-RC-430", "SMS-UP-430", "SMS-CAR-430"), "C"),
    **dict.fromkeys(("SMS-RC-500", "SMS-RC-501", "SMS-RC-503", "SMS-RC-504"), "A"),
    **dict.fromkeys(("SMS-UP-414", "SMS-CAR-414"), "A"),
    "SMS-UP-431": "A",
    **dict.fromkeys(("SMS-UP-432", "SMS-CAR-432"), "C"),
    **dict.fromkeys(("SMS-UP-433", "SMS-CAR-433", "SMS-CAR-434", "SMS-CAR-435"), "C"),
    **dict.fromkeys(("SMS-UP-500", "SMS-CAR-500", "SMS-CAR-431"), "R"),
    "SMS-CAR-104": "L",
    "SMS-CAR-199": "L",
    **dict.fromkeys(("SMS-CAR-400", "SMS-CAR-412"), "P"),
    "SMS-CAR-410": "R",
    **dict.fromkeys(("SMS-CAR-450", "SMS-CAR-451", "SMS-CAR-452"), "A"),
    "SMS-CAR-461": "A",
}
FINAL_CODES = sorted(code for code, cls in EXPECTED_CLASS.items() if cls != "L")


def _sent(to: str = RECIPIENT) -> Message:
    [message] = services.message_create(to_numbers=[to], text="Your table is ready")
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def _check(message: Message) -> Message:
    """Run the status check now for this message (as if its next check were due)."""
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    return message


def test_the_table_has_every_documented_code_with_its_class():
    assert {code: entry.outcome.value for code, entry in delivery_codes.CODES.items()} == (
        EXPECTED_CLASS
    )
    reasons_given = [entry.reason for entry in delivery_codes.CODES.values()]
    assert all(reason.strip() for reason in reasons_given)


@pytest.mark.parametrize("code", FINAL_CODES)
def test_a_final_code_fails_the_text_with_its_reason(sms_settings, simulator, code):
    simulator.configure(failing_numbers={RECIPIENT: code})
    message = _sent()
    simulator.advance_clock(10)  # past the simulator's delivered_after_seconds
    message = _check(message)

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

    lowered = reason.lower()
    cls = EXPECTED_CLASS[code]
    if cls == "R":
        assert "temporary carrier problem" in lowered
        assert "retry later" in lowered
    elif cls == "A":
        # Who must act, and that sending again later may work.
        assert "admin" in lowered
        assert "again" in lowered
    elif cls == "C":
        assert "new" in lowered  # the same words fail again: write a new text
    elif code.endswith("-413"):
        assert "replied STOP" in reason
        assert "START" in reason
    else:
        assert "again" in lowered  # says sending again will not help as it is


def test_sms_car_410_is_a_retry_later_not_a_landline(sms_settings, simulator):
    entry = delivery_codes.lookup("SMS-CAR-410")
    assert entry.outcome is Outcome.RETRY_LATER
    assert "landline" not in entry.reason.lower()
    assert "invalid" not in entry.reason.lower()
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-410"})
    message = _sent()
    simulator.advance_clock(10)
    message = _check(message)
    assert (message.status, message.error_code) == (Status.FAILED, "SMS-CAR-410")
    assert "landline" not in message.error_reason.lower()
    assert "retry later" in message.error_reason.lower()
    # A retry is the staff's choice, and it works: the text can be sent again.
    simulator.configure(failing_numbers={})
    assert services.message_retry(message=message)


def test_sms_car_104_is_looked_at_again_hourly_then_ends_without_a_receipt(sms_settings, simulator):
    entry = delivery_codes.CODES["SMS-CAR-104"]
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-104"})
    message = _sent()
    simulator.advance_clock(10)
    for look in range(1, entry.look_again_times + 1):
        before = timezone.now()
        message = _check(message)
        after = timezone.now()
        assert message.status == Status.SENT, f"look {look}"
        assert before + timedelta(hours=1) <= message.next_status_check_at
        assert message.next_status_check_at <= after + timedelta(hours=1)
        assert message.error_code == ""  # not final yet
    scheduled = message.events.filter(status=Status.SENT, error_code="SMS-CAR-104")
    assert scheduled.count() == entry.look_again_times
    assert "looks again in an hour" in scheduled.first().description

    message = _check(message)  # still 104 after the last look: final
    assert message.status == Status.SENT
    assert message.next_status_check_at is None
    assert message.error_code == "SMS-CAR-104"
    assert message.error_reason.startswith("Sent, no delivery receipt")
    assert "SMS-CAR-104" in message.error_reason
    reads = simulator.counters()
    assert services.messages_check_delivery() == 0  # a final text is not looked at again
    assert simulator.counters() == reads


def test_sms_car_104_becomes_delivered_when_the_receipt_comes_later(sms_settings, simulator):
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-104"})
    message = _sent()
    simulator.advance_clock(10)
    message = _check(message)
    assert message.status == Status.SENT
    assert message.next_status_check_at > timezone.now() + timedelta(minutes=59)
    simulator.configure(failing_numbers={})  # the carrier's receipt arrives within the hour
    message = _check(message)
    assert message.status == Status.DELIVERED


def test_sms_car_199_is_looked_at_once_more_then_ends_as_unknown(sms_settings, simulator):
    assert delivery_codes.CODES["SMS-CAR-199"].look_again_times == 1
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-199"})
    message = _sent()
    simulator.advance_clock(10)
    message = _check(message)
    assert message.status == Status.SENT
    assert message.next_status_check_at > timezone.now() + timedelta(minutes=59)
    assert "may have been delivered" in message.events.last().description

    message = _check(message)
    assert (message.status, message.next_status_check_at) == (Status.SENT, None)
    assert message.error_code == "SMS-CAR-199"
    assert "no delivery receipt" in message.error_reason
    assert "may have been delivered" in message.error_reason


def test_a_look_again_never_goes_past_the_no_receipt_deadline(sms_settings, simulator):
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-104"})
    message = _sent()
    simulator.advance_clock(10)
    # Sent almost a day ago: the hour-later look is brought forward to the deadline.
    sent_at = timezone.now() - NO_RECEIPT_AFTER + timedelta(minutes=10)
    Message.objects.filter(pk=message.pk).update(sent_at=sent_at)
    message = _check(message)
    assert message.next_status_check_at == sent_at + NO_RECEIPT_AFTER
    Message.objects.filter(pk=message.pk).update(sent_at=sent_at - timedelta(minutes=11))
    message = _check(message)
    assert (message.next_status_check_at, message.error_code) == (None, "SMS-CAR-104")


def _stays_sent(sms_settings, simulator) -> Message:
    """A text whose record stays Sent for good (the carrier never sends a receipt)."""
    simulator.configure(delivered_after_seconds=1e9)
    message = _sent()
    simulator.advance_clock(10)
    message = _check(message)
    assert message.status == Status.SENT
    assert message.next_status_check_at is not None  # polled again, with backoff
    # The bound passes (the app's clock is real: move the sending time back instead).
    Message.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - NO_RECEIPT_AFTER - timedelta(seconds=1)
    )
    return _check(message)


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
    message = _sent()
    simulator.advance_clock(10)
    sent_at = timezone.now() - NO_RECEIPT_AFTER + timedelta(seconds=5)
    Message.objects.filter(pk=message.pk).update(sent_at=sent_at, status_checks=30)
    message = _check(message)
    assert message.status == Status.SENT
    assert message.error_code == ""
    assert message.next_status_check_at == sent_at + NO_RECEIPT_AFTER  # not 30 min later


def test_no_receipt_is_shown_in_words_on_the_pages_and_in_sms_status(
    sms_settings, simulator, client, django_user_model, staff_senders
):
    message = _stays_sent(sms_settings, simulator)
    user = django_user_model.objects.create_user("sam", password="a-long-test-password")
    user.groups.add(staff_senders)
    client.force_login(user)

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


def test_an_unlisted_code_fails_with_a_reason_naming_it(sms_settings, simulator):
    simulator.configure(failing_numbers={RECIPIENT: "SMS-CAR-999"})
    message = _sent()
    simulator.advance_clock(10)
    message = _check(message)
    assert (message.status, message.error_code) == (Status.FAILED, "SMS-CAR-999")
    assert message.error_reason == delivery_codes.generic_reason("SMS-CAR-999")
    assert "SMS-CAR-999" in message.error_reason


@pytest.mark.parametrize(
    ("code", "outcome", "says"),
    [
        ("SMS-XX-413", Outcome.PERMANENT, "replied STOP"),  # any -413 is an opt-out
        ("SMS-CAR-414x", Outcome.PERMANENT, "SMS-CAR-414x"),  # not a code: generic
        ("SMS-UP-414", Outcome.OPERATOR, "10DLC"),
        ("SMS-RC-999", Outcome.PERMANENT, "SMS-RC-999"),
        ("SMS-RC-502", Outcome.OPERATOR, "admin"),
        ("SMS-CAR-503", Outcome.RETRY_LATER, "temporary carrier problem"),
        ("SMS-A2P-430", Outcome.CHANGE_CONTENT, "spam filter"),  # any -430 is a spam filter
        ("DeliveryFailed", Outcome.PERMANENT, "without an error code"),
    ],
)
def test_codes_outside_the_table_get_a_default_by_suffix_or_a_generic_reason(code, outcome, says):
    entry = delivery_codes.lookup(code)
    assert entry.outcome is outcome
    assert says in entry.reason


def test_sending_failed_ends_the_text_failed_with_its_code(sms_settings, simulator):
    simulator.configure(failing_numbers={}, sending_failed_numbers={RECIPIENT: "SMS-RC-413"})
    message = _sent()
    simulator.advance_clock(10)
    message = _check(message)
    assert (message.status, message.error_code) == (Status.FAILED, "SMS-RC-413")
    assert message.error_reason == delivery_codes.CODES["SMS-RC-413"].reason
    [record] = simulator.messages()
    assert record["messageStatus"] == "SendingFailed"


def test_a_no_receipt_number_ends_as_sent_without_a_receipt(sms_settings, simulator):
    simulator.configure(no_receipt_numbers=[RECIPIENT])
    message = _sent()
    simulator.advance_clock(3600)
    message = _check(message)
    assert (message.status, message.error_code) == (Status.SENT, "")
    assert message.next_status_check_at is not None
    [record] = simulator.messages()
    assert record["messageStatus"] == "Sent"
    Message.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - NO_RECEIPT_AFTER - timedelta(seconds=1)
    )
    message = _check(message)
    assert (message.status, message.next_status_check_at) == (Status.SENT, None)
    assert message.error_code == delivery_codes.NO_RECEIPT_CODE
    assert message.error_reason == delivery_codes.NO_RECEIPT


def test_one_status_check_run_reads_no_more_than_the_backends_light_budget(
    sms_settings, simulator, monkeypatch
):
    # The budget is RingCentral's (its share of the Light group), defined once, on the backend.
    monkeypatch.setattr(RingCentralBackend, "delivery_reads_per_run", 2)
    messages = [_sent(f"+1650555019{i}") for i in range(3)]
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        next_status_check_at=timezone.now()
    )
    reads_before = simulator.counters()["requests"].get("Light", 0)
    assert services.messages_check_delivery() == 2
    assert simulator.counters()["requests"]["Light"] - reads_before == 2
    assert services.messages_check_delivery() == 1
