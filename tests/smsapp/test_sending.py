"""The send pipeline's services against the simulator over HTTP, one step at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from smsapp import services
from smsapp.models import Message
from smsapp.services.transitions import transition_many
from smsapp.timing import stale_sending_seconds

pytestmark = pytest.mark.django_db
Status = Message.Status


def _create(*numbers: str, text: str = "Your table is ready", **kwargs) -> list[Message]:
    return services.message_create(
        to_numbers=list(numbers) or ["+16505550199"], text=text, **kwargs
    )


def _send(message: Message) -> Message:
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def _make_due(message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def _age_attempt(message: Message, settings) -> None:
    """As if the uncertain attempt was made longer ago than the settle time."""
    settle = timedelta(seconds=settings.SMS_UNCERTAIN_SETTLE_SECONDS + 1)
    Message.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - settle, uncertain_since=timezone.now() - settle
    )


def _events(message: Message) -> list[str]:
    return [e.status for e in message.events.all()]


def test_create_makes_one_queued_message_per_recipient_with_a_timeline(sms_settings):
    first, second = _create("+16505550101", "+16505550102")
    assert (first.status, second.status) == (Status.QUEUED, Status.QUEUED)
    assert first.from_number == "+16505550100"
    assert _events(first) == [Status.QUEUED]


def test_bad_input_creates_nothing(sms_settings):
    with pytest.raises(ValidationError) as invalid:
        services.message_create(to_numbers=["+16505550101", "555-0102"], text="hi")
    assert "555-0102" in str(invalid.value)
    with pytest.raises(ValidationError):
        services.message_create(to_numbers=["+16505550101"], text="x" * 1001)
    assert Message.objects.count() == 0


def test_missing_sender_number_is_a_clear_error(sms_settings):
    sms_settings.SMS_FROM_NUMBER = ""
    with pytest.raises(ValidationError, match="SMS_FROM_NUMBER"):
        _create("+16505550101")


def test_a_send_records_sent_with_the_provider_id(sms_settings, simulator):
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.SENT
    [stored] = simulator.messages()
    assert message.provider_message_id == str(stored["id"])
    assert message.attempts == 1
    assert _events(message) == [Status.QUEUED, Status.SENDING, Status.SENT]


def test_a_redelivered_task_sends_nothing(sms_settings, simulator):
    [message] = _create("+16505550101")
    _send(message)
    assert services.message_send(message_id=message.pk).startswith("skipped")
    assert simulator.counters()["sms_accepted"] == 1


def test_503s_are_retried_with_backoff_and_sent_once(sms_settings, simulator):
    simulator.inject_fault("error", group="Medium", count=2)
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.QUEUED
    assert message.next_attempt_at > timezone.now()
    assert message.error_code == "MSG-290"
    assert services.message_send(message_id=message.pk).startswith("skipped")  # not due yet
    for _ in range(2):
        _make_due(message)
        message = _send(message)
    assert message.status == Status.SENT
    assert message.attempts == 3
    assert simulator.counters()["sms_accepted"] == 1


def test_transient_failures_end_in_failed_after_the_attempt_limit(sms_settings, simulator):
    simulator.configure(error_rate=1.0)
    [message] = _create("+16505550101")
    for _ in range(sms_settings.SMS_MAX_ATTEMPTS):
        _make_due(message)
        message = _send(message)
    assert message.status == Status.FAILED
    assert "after 4 attempts" in message.error_reason


def test_msg_242_fails_at_once_with_a_reason_staff_understand(sms_settings, simulator):
    sms_settings.SMS_FROM_NUMBER = "+16505550123"  # not the extension's number
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.FAILED
    assert message.error_code == "MSG-242"
    assert "SMS_FROM_NUMBER" in message.error_reason
    assert message.attempts == 1


def test_a_429_pauses_the_whole_fleet_for_retry_after(sms_settings, simulator):
    simulator.inject_fault("error", group="Medium", status=429, retry_after=30)
    first, second = _create("+16505550101", "+16505550102")
    first = _send(first)
    assert first.status == Status.QUEUED
    assert first.next_attempt_at >= timezone.now() + timedelta(seconds=29)
    assert first.attempts == 0  # not processed by RingCentral: no attempt used
    requests_before = simulator.counters()["requests"].get("Medium", 0)
    second = _send(second)  # another worker: it must not call during the pause
    assert second.status == Status.QUEUED
    assert second.next_attempt_at >= timezone.now() + timedelta(seconds=28)
    assert simulator.counters()["requests"].get("Medium", 0) == requests_before


def test_the_fleet_follows_ringcentrals_limit_headers_instead_of_hitting_429(
    sms_settings, simulator
):
    simulator.configure(rate_limits={"Auth": 5, "Medium": 3, "Light": 50, "Heavy": 10})
    messages = _create(*[f"+1650555020{i}" for i in range(5)])
    statuses = [_send(m).status for m in messages]
    assert statuses == [Status.SENT] * 3 + [Status.QUEUED] * 2
    assert simulator.counters()["rate_limited"] == {}  # held back, never throttled


def test_a_dropped_connection_after_processing_produces_no_duplicate(sms_settings, simulator):
    simulator.inject_fault("drop", group="Medium")
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.SENT
    [stored] = simulator.messages()
    assert message.provider_message_id == str(stored["id"])
    assert Status.UNCERTAIN in _events(message)
    assert simulator.counters()["sms_duplicates"] == []


def test_a_dropped_connection_before_processing_is_sent_again_once(sms_settings, simulator):
    simulator.inject_fault("drop_before", group="Medium")
    [message] = _create("+16505550101")
    message = _send(message)
    # Not in the store right away is not proof yet: it stays uncertain, nothing is resent.
    assert message.status == Status.UNCERTAIN
    assert services.messages_reconcile_stuck() == 0
    _age_attempt(message, sms_settings)
    assert services.messages_reconcile_stuck() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED  # still not in the store: certain it did not arrive
    message = _send(message)
    assert message.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 1


def test_a_read_timeout_after_processing_is_reconciled_not_resent(sms_settings, simulator):
    sms_settings.RINGCENTRAL_HTTP_TIMEOUT = 0.5
    simulator.inject_fault("delay_after", group="Medium", seconds=1.5)
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 1


def test_reconciling_never_takes_another_messages_record(sms_settings, simulator):
    # Two sends of the same words to the same number (two submissions).
    [first] = _create("+16505550101", text="Same words")
    [second] = _create("+16505550101", text="Same words")
    _send(first)
    simulator.inject_fault("drop_before", group="Medium")
    _send(second)
    _age_attempt(second, sms_settings)
    services.messages_reconcile_stuck()
    second.refresh_from_db()
    # The store holds the first message's identical text: it must not count for the second.
    assert second.status == Status.QUEUED
    second = _send(second)
    assert second.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 2


def _claimed_by_a_worker(message: Message, *, lease_left: float, claimed_ago: float = 1) -> None:
    """As if a worker claimed it `claimed_ago` s ago and its lease runs `lease_left` s more
    (negative: it lapsed, the worker died before calling RingCentral)."""
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING,
        claimed_at=now - timedelta(seconds=claimed_ago),
        lease_holder="elsewhere:1:dead",
        lease_expires_at=now + timedelta(seconds=lease_left),
    )


def test_a_send_whose_lease_lapsed_is_settled_at_once_not_after_an_age(sms_settings, simulator):
    [message] = _create("+16505550101")
    _claimed_by_a_worker(message, lease_left=-1, claimed_ago=3)
    assert services.messages_reconcile_stuck() == 1
    message.refresh_from_db()
    # Not in the store, but only just abandoned: it waits out the settle time, then goes.
    assert message.status == Status.UNCERTAIN
    _age_attempt(message, sms_settings)
    services.messages_reconcile_stuck()
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    message = _send(message)
    assert message.status == Status.SENT
    assert simulator.counters()["sms_accepted"] == 1


def test_a_send_with_a_live_lease_is_left_alone_until_the_backstop_age(sms_settings):
    [message] = _create("+16505550101")
    _claimed_by_a_worker(message, lease_left=60)
    assert services.messages_reconcile_stuck() == 0
    assert services.message_send(message_id=message.pk) == "skipped: still sending"
    # A lease renewed for longer than any attempt can take: the attempt hung; settle it.
    _claimed_by_a_worker(message, lease_left=60, claimed_ago=stale_sending_seconds() + 1)
    assert services.messages_reconcile_stuck() == 1
    message.refresh_from_db()
    assert message.status == Status.UNCERTAIN


def test_rejected_credentials_hold_the_text_then_fail_naming_the_login(sms_settings, simulator):
    sms_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.QUEUED
    assert message.held_since is not None
    assert "rejected the password" in message.error_reason
    Message.objects.filter(pk=message.pk).update(
        held_since=timezone.now() - timedelta(seconds=sms_settings.SMS_AUTH_HOLD_SECONDS + 1),
        next_attempt_at=timezone.now(),
    )
    message = _send(message)
    assert message.status == Status.FAILED
    assert "RingCentral login" in message.error_reason
    assert simulator.url in message.error_reason
    assert simulator.counters()["token_requests"]["password"] == {"OAU-140": 1}


def test_a_held_text_goes_out_once_the_login_works_again(sms_settings, simulator):
    sms_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    [message] = _create("+16505550101")
    _send(message)
    sms_settings.RINGCENTRAL_PASSWORD = "sim-password"
    _make_due(message)
    message = _send(message)
    assert message.status == Status.SENT
    assert message.held_since is None


def test_a_scheduled_text_is_dispatched_when_due_and_only_once(sms_settings):
    [message] = _create("+16505550101", send_at=timezone.now() + timedelta(hours=1))
    assert message.status == Status.SCHEDULED
    assert services.messages_dispatch_due() == 0
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert services.messages_dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert services.messages_dispatch_due() == 0


def test_the_dispatcher_writes_an_event_for_every_text_it_moves(sms_settings):
    texts = _create("+16505550101", "+16505550102", send_at=timezone.now() + timedelta(hours=1))
    Message.objects.filter(pk__in=[m.pk for m in texts]).update(send_at=timezone.now())
    assert services.messages_dispatch_due() == 2
    for message in texts:
        assert _events(message) == [Status.SCHEDULED, Status.QUEUED]
        assert message.events.last().description == "Due: queued"


def test_transition_many_moves_only_what_nobody_moved_first(sms_settings):
    first, second = _create(
        "+16505550101", "+16505550102", send_at=timezone.now() + timedelta(hours=1)
    )
    services.message_cancel(message=second)
    moved = transition_many(
        [first.pk, second.pk], from_statuses=[Status.SCHEDULED], to=Status.QUEUED, event="Due"
    )
    assert moved == [first.pk]
    assert _events(first) == [Status.SCHEDULED, Status.QUEUED]
    assert _events(second) == [Status.SCHEDULED, Status.CANCELED]


def test_a_canceled_text_is_never_dispatched(sms_settings):
    [message] = _create("+16505550101", send_at=timezone.now() + timedelta(hours=1))
    assert services.message_cancel(message=message) is True
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    assert services.messages_dispatch_due() == 0
    assert services.message_send(message_id=message.pk).startswith("skipped")
    message.refresh_from_db()
    assert message.status == Status.CANCELED


def test_only_scheduled_texts_can_be_canceled(sms_settings):
    [message] = _create("+16505550101")
    assert services.message_cancel(message=message) is False


def test_a_lost_task_is_dispatched_again(sms_settings):
    [message] = _create("+16505550101")
    assert services.messages_dispatch_due() == 0  # its task was queued just now
    Message.objects.filter(pk=message.pk).update(
        dispatched_at=timezone.now() - timedelta(seconds=sms_settings.SMS_REDISPATCH_SECONDS + 1)
    )
    assert services.messages_dispatch_due() == 1


def test_delivery_status_moves_sent_to_delivered(sms_settings, simulator):
    [message] = _create("+16505550101")
    _send(message)
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
    [message] = _create("+15005550002")  # the simulator's opted-out number
    _send(message)
    simulator.advance_clock(10)
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == "SMS-RC-413"
    assert "opted out" in message.error_reason


def test_status_checks_back_off_and_stop_after_a_day(sms_settings, simulator):
    [message] = _create("+16505550101")
    _send(message)
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


def test_retry_sends_a_failed_text_again(sms_settings, simulator):
    sms_settings.SMS_FROM_NUMBER = "+16505550123"
    [message] = _create("+16505550101")
    _send(message)
    sms_settings.SMS_FROM_NUMBER = "+16505550100"
    Message.objects.filter(pk=message.pk).update(from_number="+16505550100")
    assert services.message_retry(message=message) is True
    message = _send(message)
    assert message.status == Status.SENT


def test_without_the_shared_rate_limiter_nothing_is_sent(sms_settings, simulator):
    sms_settings.REDIS_URL = "redis://127.0.0.1:6399/0"  # nothing listens there
    [message] = _create("+16505550101")
    message = _send(message)
    assert message.status == Status.QUEUED
    assert "rate limiter unavailable" in message.error_reason
    assert simulator.counters()["sms_accepted"] == 0
