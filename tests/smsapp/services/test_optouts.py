"""smsapp/services/optouts.py: the opt-out list, what it cancels and refuses, and what feeds it
(a *-413 outcome, records from the message sync), against PostgreSQL and the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from auth_tokens.api import ringcentral_request
from smsapp import services
from smsapp.backends.ringcentral import STORE_PATH
from smsapp.models import Message, OptOut, OptOutChange
from smsapp.services import optouts
from smsapp.services.delivery import messages_apply_store_records
from smsapp.signals import messages_created
from tests.support.texts import check_delivery_now, create_texts, delivery_failed, send, sent

pytestmark = pytest.mark.django_db
Status = Message.Status
Source = OptOut.Source
OURS = "+16505550100"  # the simulator's sending number (rc_settings)
THEM = "+16505550177"


def opt_out(number: str = THEM, **kwargs) -> bool:
    fields = {"our_number": OURS, "their_number": number, "source": Source.KEYWORD}
    return optouts.optout_add(**(fields | kwargs))


def in_an_hour() -> timezone.datetime:
    return timezone.now() + timedelta(hours=1)


# -- the list ----------------------------------------------------------------------------------


def test_opting_out_twice_records_once_and_keeps_the_first_cause(sms_settings):
    assert opt_out(inbound_id="1001", inbound_text="Stop.") is True
    assert opt_out(source=Source.STAFF, reason="asked by phone") is False

    [row] = OptOut.objects.all()
    assert (row.source, row.inbound_id, row.inbound_text) == (Source.KEYWORD, "1001", "Stop.")
    assert OptOutChange.objects.count() == 1


def test_numbers_are_stored_in_e164_however_they_are_written(sms_settings):
    optouts.optout_add(our_number="16505550100", their_number="(650) 555-0177", source="staff")

    assert optouts.opted_out_numbers(our_number=OURS, numbers=[THEM]) == [THEM]


def test_a_number_that_is_none_is_refused(sms_settings):
    with pytest.raises(ValidationError, match="Not a valid phone number"):
        opt_out("12")


def test_opted_out_numbers_keeps_the_given_order_in_one_query(
    sms_settings, django_assert_num_queries
):
    opt_out("+16505550103")
    opt_out("+16505550101")
    asked = ["+16505550101", "+16505550102", "+16505550103"]

    with django_assert_num_queries(1):
        found = optouts.opted_out_numbers(our_number=OURS, numbers=asked)

    assert found == ["+16505550101", "+16505550103"]


def test_an_account_wide_opt_out_covers_every_number_of_ours(sms_settings):
    optouts.optout_add(our_number="*", their_number=THEM, source=Source.RINGCENTRAL)

    assert optouts.opted_out_numbers(our_number=OURS, numbers=[THEM]) == [THEM]
    assert optouts.opted_out_numbers(our_number="+16505550111", numbers=[THEM]) == [THEM]


def test_removing_keeps_the_opt_out_and_the_reason_in_the_history(sms_settings, admin_user):
    opt_out(inbound_text="STOP")

    removed = optouts.optout_remove(
        our_number=OURS,
        their_number=THEM,
        source=Source.KEYWORD,
        reason="texted START",
        inbound_id="1002",
        inbound_text="start",
    )

    assert removed is True
    assert not OptOut.objects.exists()
    history = list(OptOutChange.objects.order_by("id").values_list("action", "reason"))
    assert history == [("opted_out", ""), ("opted_in", "texted START")]
    assert not optouts.optout_remove(
        our_number=OURS, their_number=THEM, source=Source.STAFF, reason="again", by=admin_user
    )


def test_removing_one_pair_leaves_an_account_wide_opt_out(sms_settings):
    optouts.optout_add(our_number="*", their_number=THEM, source=Source.RINGCENTRAL)
    opt_out()

    optouts.optout_remove(our_number=OURS, their_number=THEM, source="keyword", reason="START")

    assert optouts.opted_out_numbers(our_number=OURS, numbers=[THEM]) == [THEM]


# -- what an opt-out cancels -------------------------------------------------------------------


def test_opting_out_cancels_the_pairs_scheduled_texts_saying_why(sms_settings):
    mine, other = create_texts(THEM, "+16505550178", send_at=in_an_hour())

    opt_out(inbound_text="Stop.")

    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.status == Status.CANCELED
    assert mine.events.last().description == f"Canceled: {THEM} opted out (texted “Stop.”)"
    assert other.status == Status.SCHEDULED


def test_texts_already_queued_are_left_to_ringcentral(sms_settings):
    [queued] = create_texts(THEM)

    opt_out()

    queued.refresh_from_db()
    assert queued.status == Status.QUEUED


def test_a_staff_opt_out_names_who_and_why_on_the_canceled_text(sms_settings, admin_user):
    [scheduled] = create_texts(THEM, send_at=in_an_hour())

    opt_out(source=Source.STAFF, reason="asked by phone", by=admin_user)

    assert scheduled.events.last().description == (
        f"Canceled: {THEM} opted out (recorded by staff: asked by phone)"
    )
    assert OptOutChange.objects.get().by == admin_user


def test_the_dispatcher_cancels_a_scheduled_text_that_slipped_past_the_opt_out(sms_settings):
    [scheduled] = create_texts(THEM, send_at=in_an_hour())
    # As if it had been scheduled while the opt-out was being recorded: the row without the
    # cancel that optout_add would have done. Then its time comes.
    OptOut.objects.create(our_number=OURS, their_number=THEM, source=Source.KEYWORD)
    Message.objects.filter(pk=scheduled.pk).update(send_at=timezone.now())

    assert services.messages_dispatch_due() == 0

    scheduled.refresh_from_db()
    assert scheduled.status == Status.CANCELED
    assert "opted out" in scheduled.events.last().description


# -- refusal where texts are created -----------------------------------------------------------


def test_the_service_refuses_a_send_to_anyone_opted_out_and_creates_nothing(sms_settings):
    opt_out("+16505550102")
    opt_out("+16505550104")

    with pytest.raises(ValidationError) as refused:
        services.message_create(
            to_numbers=["+16505550101", "+16505550102", "+16505550104"], text="hi"
        )

    [error] = refused.value.message_dict["to"]
    assert "+16505550102, +16505550104" in error
    assert "+16505550101" not in error
    assert "START" in error
    assert Message.objects.count() == 0


def test_a_retry_to_someone_who_opted_out_is_refused_with_the_reason(sms_settings):
    message = delivery_failed_for_another_reason(THEM)
    opt_out(inbound_text="STOP")

    assert services.message_retry(message=message) is False

    refusal = services.messages.resend_refusal(message)
    assert refusal is not None
    assert "opted out" in refusal
    assert "texted “STOP”" in refusal
    message.refresh_from_db()
    assert message.status == Status.FAILED


def delivery_failed_for_another_reason(number: str) -> Message:
    message = sent(number)
    Message.objects.filter(pk=message.pk).update(
        status=Status.FAILED, error_code="SMS-CAR-500", next_status_check_at=None
    )
    message.refresh_from_db()
    return message


def test_message_submit_tells_listeners_inside_its_transaction(sms_settings):
    heard = []

    def listener(sender, messages, **kwargs):
        heard.append(([m.pk for m in messages], connection.in_atomic_block))

    messages_created.connect(listener)
    try:
        created = create_texts("+16505550101", "+16505550102")
    finally:
        messages_created.disconnect(listener)

    assert heard == [([m.pk for m in created], True)]


# -- what feeds the list: a *-413 outcome, and records from the message sync -------------------


@pytest.mark.parametrize("code", ["SMS-RC-413", "SMS-UP-413", "SMS-CAR-413"])
def test_a_413_outcome_records_the_opt_out_with_the_text(sms_settings, simulator, code):
    [later] = create_texts(THEM, send_at=in_an_hour())

    message = delivery_failed(simulator, THEM, code)

    row = OptOut.objects.get(their_number=THEM)
    assert (row.our_number, row.source, row.message) == (OURS, Source.DELIVERY_ERROR, message)
    assert code in row.reason
    later.refresh_from_db()
    assert later.status == Status.CANCELED


def test_another_failure_records_no_opt_out(sms_settings, simulator):
    delivery_failed(simulator, THEM, "SMS-CAR-500")

    assert not OptOut.objects.exists()


def store_record(message: Message) -> dict:
    """The message store's record of a text, as RingCentral (the simulator) answers it."""
    response = ringcentral_request("GET", f"{STORE_PATH}/{message.provider_message_id}")
    assert response.status_code == 200
    return response.json()


def test_store_records_from_the_sync_settle_texts_as_the_status_check_would(
    sms_settings, simulator
):
    simulator.configure(failing_numbers={THEM: "SMS-RC-413"})
    delivered = sent("+16505550101")
    failed = sent(THEM)
    waiting = sent("+16505550102")
    simulator.advance_clock(10)  # past the simulator's delivery time
    records = [store_record(delivered), store_record(failed)]
    simulator.configure(delivered_after_seconds=3600)
    records.append(store_record(waiting) | {"messageStatus": "Sent"})

    changed = messages_apply_store_records([*records, {"id": "999999"}, {"no": "id"}])

    assert changed == 2
    delivered.refresh_from_db()
    failed.refresh_from_db()
    waiting.refresh_from_db()
    assert delivered.status == Status.DELIVERED
    assert (failed.status, failed.error_code) == (Status.FAILED, "SMS-RC-413")
    assert "opted out" in failed.error_reason
    assert OptOut.objects.get(their_number=THEM).message == failed
    assert waiting.status == Status.SENT
    # The same outcome through the status check afterwards changes nothing more.
    assert check_delivery_now(failed).status == Status.FAILED
    assert messages_apply_store_records(records) == 0


def test_store_records_of_texts_not_sent_yet_are_ignored(sms_settings, simulator):
    [queued] = create_texts("+16505550101")
    done = send(create_texts("+16505550102")[0])
    record = store_record(done) | {"messageStatus": "Delivered"}

    assert messages_apply_store_records([record | {"id": "nope"}]) == 0
    assert messages_apply_store_records([record]) == 1
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED
