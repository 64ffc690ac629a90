"""smsapp/services/messages.py: creating texts (one submission, one send), canceling and
"Send again", each holding the same rules whoever calls."""

from __future__ import annotations

import threading
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from smsapp import services
from smsapp.models import Message, MessageEvent
from smsapp.services import messages as message_services
from smsapp.services.messages import message_cancel, message_retry, message_submit, resend_refusal
from tests.support.texts import (
    FAR_WEST,
    create_text,
    create_texts,
    events,
    numbers,
    send,
)

pytestmark = pytest.mark.django_db
Status = Message.Status
TWO = ["+16505550101", "+16505550102"]
KEY = "9c0e6a7b-2f31-4b8e-9a57-0d6f3f1c2b11"


# -- creating texts ----------------------------------------------------------------------------


def test_create_makes_one_queued_message_per_recipient_with_a_timeline(sms_settings):
    first, second = create_texts("+16505550101", "+16505550102")
    assert (first.status, second.status) == (Status.QUEUED, Status.QUEUED)
    assert first.from_number == "+16505550100"
    assert events(first) == [Status.QUEUED]


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
        create_texts("+16505550101")


@pytest.mark.django_db
def test_the_service_refuses_more_recipients_than_the_limit(sms_settings):
    sms_settings.SMS_MAX_RECIPIENTS = 2
    with pytest.raises(ValidationError) as raised:
        services.message_create(to_numbers=numbers(3), text="hi")
    assert "at most 2" in " ".join(raised.value.message_dict["to"])
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ahead", "problem"),
    [
        (timedelta(days=366), "more than 365 days ahead"),
        (-timedelta(minutes=5), "is in the past"),
    ],
)
def test_the_service_holds_send_times_to_the_same_rule(sms_settings, ahead, problem):
    with pytest.raises(ValidationError) as raised:
        services.message_create(
            to_numbers=["+16505550101"], text="hi", send_at=timezone.now() + ahead
        )
    assert problem in " ".join(raised.value.message_dict["send_at"])
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_a_send_time_past_the_last_date_python_holds(sms_settings):
    far_west = datetime(9999, 12, 31, 23, 59, tzinfo=zoneinfo.ZoneInfo(FAR_WEST))
    with pytest.raises(ValidationError) as raised:
        services.message_create(to_numbers=["+16505550101"], text="hi", send_at=far_west)
    assert "more than 365 days ahead" in " ".join(raised.value.message_dict["send_at"])


# -- one submission, one send: the key and the unique constraint -------------------------------


@pytest.mark.django_db
def test_the_same_submission_twice_creates_one_set_and_returns_it(sms_settings, sender):
    first = message_submit(to_numbers=TWO, text="Hi", created_by=sender, submission_key=KEY)
    again = message_submit(to_numbers=TWO, text="Hi", created_by=sender, submission_key=KEY)

    assert (first.repeated, again.repeated) == (False, True)
    assert [m.pk for m in again.messages] == [m.pk for m in first.messages]
    assert Message.objects.count() == 2
    assert MessageEvent.objects.count() == 2  # no second "Queued" either


@pytest.mark.django_db
def test_without_a_key_each_call_is_a_new_send(sms_settings):
    services.message_create(to_numbers=TWO, text="Hi")
    services.message_create(to_numbers=TWO, text="Hi")
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_a_recipient_named_twice_in_one_submission_gets_one_text(sms_settings):
    created = services.message_create(
        to_numbers=[TWO[0], TWO[1], TWO[0]], text="Hi", submission_key=KEY
    )
    assert sorted(m.to_number for m in created) == TWO


@pytest.mark.django_db
@pytest.mark.parametrize(
    "other",
    [
        lambda: {"to_numbers": [TWO[0]]},
        lambda: {"text": "Hi!"},
        lambda: {"send_at": timezone.now() + timedelta(hours=1)},  # made when the test runs
        lambda: {"created_by": None},
    ],
    ids=["recipients", "text", "time", "sender"],
)
def test_a_key_used_again_for_another_send_is_refused_and_creates_nothing(
    sms_settings, sender, other
):
    asked = {"to_numbers": TWO, "text": "Hi", "created_by": sender, "send_at": None}
    message_submit(submission_key=KEY, **asked)

    with pytest.raises(ValidationError) as refused:
        message_submit(submission_key=KEY, **{**asked, **other()})

    assert "already used to send 2 texts" in " ".join(refused.value.message_dict["submission_key"])
    assert Message.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 65, "ключ", "<script>"])
def test_a_key_that_is_not_a_key_is_refused(sms_settings, key):
    with pytest.raises(ValidationError) as refused:
        message_submit(to_numbers=TWO, text="Hi", submission_key=key)
    assert "submission_key" in refused.value.message_dict
    assert Message.objects.count() == 0


# -- a real race on PostgreSQL: two calls at once, both past the look for an earlier one -------


def _race(monkeypatch, count: int = 2) -> list[object]:
    """`count` threads submit the same key at once. Each waits for the others right after it
    looked for an earlier submission and found none, so all of them insert."""
    barrier = threading.Barrier(count, timeout=20)
    validate = message_services._validate

    def validate_then_wait(*args, **kwargs):
        validate(*args, **kwargs)
        barrier.wait()

    monkeypatch.setattr(message_services, "_validate", validate_then_wait)
    results: list[object] = [None] * count

    def submit(index: int) -> None:
        try:
            results[index] = message_submit(to_numbers=TWO, text="Race", submission_key=KEY)
        except Exception as error:
            results[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_with_one_key_create_one_set(monkeypatch, sms_settings):
    results = _race(monkeypatch)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Message.objects.count() == 2
    assert sorted(r.repeated for r in results) == [False, True]
    first, second = (sorted(m.pk for m in r.messages) for r in results)
    assert first == second


@pytest.mark.django_db(transaction=True)
def test_the_race_is_real_without_the_unique_constraint_it_texts_everyone_twice(
    monkeypatch, sms_settings
):
    # The control for the test above: the same race with the constraint dropped creates two
    # sets, so it is the database, not the look before inserting, that makes it one.
    [constraint] = [c for c in Message._meta.constraints if c.name == "sms_one_text_per_submission"]
    with connection.schema_editor() as editor:
        editor.remove_constraint(Message, constraint)
    try:
        results = _race(monkeypatch)
    finally:
        Message.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Message, constraint)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.repeated for r in results] == [False, False]


# -- cancel ------------------------------------------------------------------------------------


def test_only_scheduled_texts_can_be_canceled(sms_settings):
    [message] = create_texts("+16505550101")
    assert services.message_cancel(message=message) is False


@pytest.mark.django_db
def test_cancel_posted_twice_cancels_once_and_both_say_canceled(sms_settings, sender):
    [message] = services.message_create(
        to_numbers=[TWO[0]], text="Hi", send_at=timezone.now() + timedelta(hours=1)
    )

    assert services.message_cancel(message=message, by=sender) is True
    assert services.message_cancel(message=message, by=sender) is True

    assert MessageEvent.objects.filter(message=message, status=Status.CANCELED).count() == 1


# -- Send again --------------------------------------------------------------------------------


def test_retry_sends_a_failed_text_again(sms_settings, simulator):
    sms_settings.SMS_FROM_NUMBER = "+16505550123"
    [message] = create_texts("+16505550101")
    send(message)
    sms_settings.SMS_FROM_NUMBER = "+16505550100"
    Message.objects.filter(pk=message.pk).update(from_number="+16505550100")
    assert services.message_retry(message=message) is True
    message = send(message)
    assert message.status == Status.SENT


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        ("SMS-RC-413", True),  # opted out
        ("SMS-XY-413", True),  # any *-413 is an opt-out, listed or not
        ("SMS-CAR-411", True),  # landline or invalid: permanent
        ("SMS-CAR-500", False),  # carrier failure: retry later
        ("SMS-UP-414", False),  # the sender's 10DLC registration: fixable by an admin
        ("SMS-CAR-999", False),  # not in the table: its reason says a resend may work
        ("MSG-242", False),  # refused at sending, not a delivery code
    ],
)
def test_which_failures_may_be_sent_again(sms_settings, code, refused):
    message = create_text()
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, error_code=code)
    message.refresh_from_db()

    assert bool(resend_refusal(message)) is refused
    assert services.message_retry(message=message) is not refused
    message.refresh_from_db()
    assert message.status == (Status.FAILED if refused else Status.QUEUED)


def test_the_service_refuses_an_opt_out_even_from_a_stale_read(sms_settings):
    message = create_text()
    stale = Message.objects.get(pk=message.pk)
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, error_code="SMS-RC-413")
    stale.status = Status.FAILED  # read before the code was known

    assert services.message_retry(message=stale) is False
    message.refresh_from_db()
    assert message.status == Status.FAILED


def _failed(sms_settings) -> Message:
    [message] = services.message_create(to_numbers=[TWO[0]], text="Hi")
    Message.objects.filter(pk=message.pk).update(
        status=Status.FAILED, error_code="MSG-999", error_reason="It failed."
    )
    message.refresh_from_db()
    return message


def _retries(message: Message) -> int:
    return MessageEvent.objects.filter(
        message=message, description__startswith="Retry requested"
    ).count()


@pytest.mark.django_db
def test_send_again_posted_twice_retries_once_even_if_it_failed_again_in_between(
    sms_settings, sender
):
    message = _failed(sms_settings)

    assert services.message_retry(message=message, by=sender, key=KEY) is True
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED)  # failed again at once
    assert services.message_retry(message=message, by=sender, key=KEY) is True  # same result

    message.refresh_from_db()
    assert message.status == Status.FAILED  # the repeat did not send it a third time
    assert _retries(message) == 1
    assert services.message_retry(message=message, by=sender, key=KEY[::-1]) is True  # new ask
    assert _retries(message) == 2


@pytest.mark.django_db
def test_send_again_repeated_at_the_same_moment_is_stopped_by_the_database(
    sms_settings, sender, monkeypatch
):
    # The repeat's look for the key ran before the first committed: the unique constraint on
    # (message, action key) rolls the second retry back entirely.
    message = _failed(sms_settings)
    services.message_retry(message=message, by=sender, key=KEY)
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED)
    monkeypatch.setattr(message_services, "_action_done", lambda *_: False)

    assert services.message_retry(message=message, by=sender, key=KEY) is True

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert _retries(message) == 1


@pytest.mark.django_db
def test_send_again_without_a_key_or_with_a_bad_one_works_as_before(sms_settings, sender):
    message = _failed(sms_settings)
    assert services.message_retry(message=message, by=sender, key="not a key!") is True
    assert services.message_retry(message=message, by=sender) is False  # queued: not failed


# -- each status allows exactly what its flags say ---------------------------------------------


def test_the_services_act_exactly_where_the_flags_allow(sms_settings):
    for status in Status.values:
        [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
        Message.objects.filter(pk=message.pk).update(status=status)
        message.refresh_from_db()
        allowed = message.can_cancel
        assert message_cancel(message=message) is (allowed or status == Status.CANCELED), status
        [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
        Message.objects.filter(pk=message.pk).update(status=status)
        message.refresh_from_db()
        assert message_retry(message=message) is message.can_retry, status
