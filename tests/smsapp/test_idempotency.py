"""One submission, one send: the compose form's key, the database's unique constraint, a race
on PostgreSQL, send_sms --key, and "Send again"/"Cancel" posted twice."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from smsapp import services
from smsapp.models import Message, MessageEvent
from smsapp.services import messages as message_services
from smsapp.services.messages import message_submit

Status = Message.Status
TWO = ["+16505550101", "+16505550102"]
KEY = "9c0e6a7b-2f31-4b8e-9a57-0d6f3f1c2b11"


def rendered_key(response) -> str:
    match = re.search(r'name="submission_key" value="([^"]*)"', response.content.decode())
    assert match, "the form carries no submission key"
    return match.group(1)


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# -- The service ------------------------------------------------------------------------------


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
        {"to_numbers": [TWO[0]]},
        {"text": "Hi!"},
        {"send_at": "later"},
        {"created_by": None},
    ],
    ids=["recipients", "text", "time", "sender"],
)
def test_a_key_used_again_for_another_send_is_refused_and_creates_nothing(
    sms_settings, sender, other
):
    asked = {"to_numbers": TWO, "text": "Hi", "created_by": sender, "send_at": None}
    message_submit(submission_key=KEY, **asked)
    if other.get("send_at") == "later":
        other = {"send_at": timezone.now() + timedelta(hours=1)}

    with pytest.raises(ValidationError) as refused:
        message_submit(submission_key=KEY, **{**asked, **other})

    assert "already used to send 2 texts" in " ".join(refused.value.message_dict["submission_key"])
    assert Message.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 65, "ключ", "<script>"])
def test_a_key_that_is_not_a_key_is_refused(sms_settings, key):
    with pytest.raises(ValidationError) as refused:
        message_submit(to_numbers=TWO, text="Hi", submission_key=key)
    assert "submission_key" in refused.value.message_dict
    assert Message.objects.count() == 0


# -- A real race on PostgreSQL: two calls at once, both past the look for an earlier one -----


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


# -- The compose page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_compose_form_carries_a_key_of_its_own(sender_client):
    first = rendered_key(sender_client.get(reverse("smsapp:compose")))
    second = rendered_key(sender_client.get(reverse("smsapp:compose")))
    assert len(first) >= 22
    assert first != second


@pytest.mark.django_db
def test_posting_the_same_form_twice_sends_once_and_shows_the_same_result(
    sender_client, sms_settings
):
    form = {"to": "+16505550101, +16505550102", "text": "Hello", "submission_key": KEY}

    first = sender_client.post(reverse("smsapp:compose"), form, follow=True)
    again = sender_client.post(reverse("smsapp:compose"), form, follow=True)

    assert Message.objects.count() == 2
    for response in (first, again):
        assert response.redirect_chain == [(reverse("smsapp:history"), 302)]
        assert "2 texts queued for sending." in page_text(response)
    assert "already been sent: it was sent once, not again" in page_text(again)
    assert "already been sent" not in page_text(first)


@pytest.mark.django_db
def test_confirm_pressed_twice_sends_once(sender_client, sms_settings):
    many = [f"+1650555{i:04d}" for i in range(11)]  # above SMS_CONFIRM_RECIPIENTS_ABOVE
    asked = sender_client.post(
        reverse("smsapp:compose"), {"to": ", ".join(many), "text": "Hi", "submission_key": KEY}
    )
    assert "Confirm" in asked.content.decode()
    confirm = {
        "to": ", ".join(many),
        "text": "Hi",
        "confirmed": "11",
        "action": "confirm",
        "submission_key": rendered_key(asked),  # the confirmation page carries it on
    }

    for _ in range(2):
        response = sender_client.post(reverse("smsapp:compose"), confirm, follow=True)
        assert "11 texts queued for sending." in page_text(response)

    assert rendered_key(asked) == KEY
    assert Message.objects.count() == 11


@pytest.mark.django_db
def test_a_form_with_errors_keeps_its_key_so_the_corrected_send_is_the_same_submission(
    sender_client, sms_settings
):
    wrong = {"to": "+16505550101, 555-12", "text": "Hello", "submission_key": KEY}
    response = sender_client.post(reverse("smsapp:compose"), wrong)

    assert rendered_key(response) == KEY
    for _ in range(2):
        sender_client.post(reverse("smsapp:compose"), {**wrong, "to": "+16505550101"})
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_spent_form_sent_again_with_changes_says_so_and_a_fresh_key_sends(
    sender_client, sms_settings
):
    # Sent, then the browser's Back button, an edit and Send: the same key, another text.
    sender_client.post(
        reverse("smsapp:compose"), {"to": "+16505550101", "text": "One", "submission_key": KEY}
    )
    changed = {"to": "+16505550101", "text": "Two", "submission_key": KEY}

    refused = sender_client.post(reverse("smsapp:compose"), changed)

    assert refused.status_code == 200
    assert "This form was already used to send 1 text" in page_text(refused)
    assert list(Message.objects.values_list("text", flat=True)) == ["One"]
    fresh = rendered_key(refused)
    assert fresh != KEY
    sent = sender_client.post(
        reverse("smsapp:compose"), {**changed, "submission_key": fresh}, follow=True
    )
    assert "1 text queued for sending." in page_text(sent)
    assert sorted(Message.objects.values_list("text", flat=True)) == ["One", "Two"]


@pytest.mark.django_db
def test_a_damaged_key_is_an_error_and_the_form_comes_back_with_a_good_one(
    sender_client, sms_settings
):
    form = {"to": "+16505550101", "text": "Hi", "submission_key": "not a key!"}

    response = sender_client.post(reverse("smsapp:compose"), form)

    assert "The submission key must be" in page_text(response)
    assert Message.objects.count() == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", rendered_key(response))


@pytest.mark.django_db
def test_a_post_without_a_key_still_sends(sender_client, sms_settings):
    # A client that predates the field: it works, without the protection.
    sender_client.post(reverse("smsapp:compose"), {"to": "+16505550101", "text": "Hi"})
    sender_client.post(reverse("smsapp:compose"), {"to": "+16505550101", "text": "Hi"})
    assert Message.objects.count() == 2


# -- send_sms --key ---------------------------------------------------------------------------


def send_sms(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("send_sms", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


@pytest.mark.django_db
def test_send_sms_run_again_with_its_key_prints_the_same_ids_and_sends_nothing(sms_settings):
    args = ("--to", TWO[0], "--to", TWO[1], "--text", "Table ready", "--key", KEY)

    first, _, error = send_sms(*args)
    again, note, error_again = send_sms(*args)

    assert (error, error_again) == (None, None)
    assert again == first
    assert len(first.splitlines()) == 2
    assert f"Already sent with --key {KEY}: nothing new was sent." in note
    assert Message.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "text", "says"),
    [
        (KEY, "Other text", "--key: This form was already used to send 1 text"),
        ("two words", "Hi", "--key: The submission key must be 1 to 64"),
        ("", "Hi", "--key: Give a key"),
    ],
)
def test_send_sms_refuses_a_spent_or_bad_key_in_one_line(sms_settings, key, text, says):
    send_sms("--to", TWO[0], "--text", "Hi", "--key", KEY)

    _, _, error = send_sms("--to", TWO[0], "--text", text, "--key", key)

    assert error is not None
    assert says in str(error)
    assert "\n" not in str(error)
    assert Message.objects.count() == 1


# -- Send again and Cancel, posted twice --------------------------------------------------------


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


@pytest.mark.django_db
def test_cancel_posted_twice_cancels_once_and_both_say_canceled(sms_settings, sender):
    [message] = services.message_create(
        to_numbers=[TWO[0]], text="Hi", send_at=timezone.now() + timedelta(hours=1)
    )

    assert services.message_cancel(message=message, by=sender) is True
    assert services.message_cancel(message=message, by=sender) is True

    assert MessageEvent.objects.filter(message=message, status=Status.CANCELED).count() == 1
