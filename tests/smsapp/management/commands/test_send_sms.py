"""smsapp/management/commands/send_sms.py: the web form's rules on the command line, ids on
stdout for scripts, one-line failures, and --key for one send per submission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from smsapp.models import Message
from tests.support.commands import assert_one_line_failure, run_command
from tests.support.processes import one_line_error, run_manage, shared_database_url
from tests.support.texts import numbers

Status = Message.Status

EMOJI = "\N{GRINNING FACE}"  # two UTF-16 units
TWO = ["+16505550101", "+16505550102"]
KEY = "9c0e6a7b-2f31-4b8e-9a57-0d6f3f1c2b11"


def send_sms(*args: str):
    """stdout, stderr, and the CommandError if send_sms failed."""
    return run_command("send_sms", *args)


@pytest.mark.django_db
def test_send_sms_prints_one_id_per_recipient_and_queues_each(sms_settings):
    out, _, error = run_command(
        "send_sms", "--to", "+16505550101", "--to", "+1 650 555 0102", "--text", "Table ready"
    )

    assert error is None
    ids = [int(line) for line in out.splitlines()]  # nothing but ids on stdout
    assert len(ids) == 2
    created = Message.objects.filter(pk__in=ids).order_by("pk")
    assert [(m.to_number, m.status, m.text) for m in created] == [
        ("+16505550101", Status.QUEUED, "Table ready"),
        ("+16505550102", Status.QUEUED, "Table ready"),
    ]


@pytest.mark.django_db
def test_send_sms_bad_number_fails_naming_it_and_creates_nothing(sms_settings):
    out, _, error = run_command("send_sms", "--to", "+16505550101", "--to", "555", "--text", "hi")

    assert_one_line_failure(error, "--to", "“555”")
    assert out == ""
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("at", "complaint"),
    [
        pytest.param("2020-01-02T09:30:00Z", "2020-01-02 09:30 UTC is in the past", id="past"),
        pytest.param(
            (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "no UTC offset",
            id="naive",
        ),
        pytest.param("2030-01-02", "no UTC offset", id="date-only"),
        pytest.param("tomorrow", "Not an ISO 8601 time", id="words"),
        pytest.param("2030-13-02T09:30Z", "Not an ISO 8601 time", id="impossible"),
    ],
)
def test_send_sms_rejects_an_unusable_send_time_and_creates_nothing(sms_settings, at, complaint):
    out, _, error = run_command("send_sms", "--to", "+16505550101", "--text", "hi", "--at", at)

    assert_one_line_failure(error, "--at", complaint)
    assert out == ""
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("suffix", "offset"),
    [
        ("Z", timedelta(0)),
        ("+02:00", timedelta(hours=2)),
        ("-05:30", -timedelta(hours=5, minutes=30)),
    ],
)
def test_send_sms_with_a_future_time_schedules_at_that_instant(sms_settings, suffix, offset):
    when = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    local = (when + offset).replace(tzinfo=None)
    text = f"{local:%Y-%m-%dT%H:%M:%S}{suffix}"

    out, _, error = run_command("send_sms", "--to", "+16505550101", "--text", "later", "--at", text)

    assert error is None
    [message] = Message.objects.filter(pk=int(out))
    assert message.status == Status.SCHEDULED
    assert message.send_at == when


@pytest.mark.django_db
def test_send_sms_counts_an_emoji_as_two_of_the_thousand_characters(sms_settings):
    out, _, error = run_command("send_sms", "--to", "+16505550101", "--text", "a" * 999 + EMOJI)

    assert_one_line_failure(error, "--text", "1001")
    assert out == ""
    assert Message.objects.count() == 0

    out, _, error = run_command("send_sms", "--to", "+16505550101", "--text", "a" * 998 + EMOJI)
    assert error is None
    assert Message.objects.get(pk=int(out)).text == "a" * 998 + EMOJI


@pytest.mark.django_db
def test_send_sms_reports_a_missing_sender_number_in_one_line(sms_settings):
    sms_settings.SMS_FROM_NUMBER = ""

    _, _, error = run_command("send_sms", "--to", "+16505550101", "--text", "hi")

    assert_one_line_failure(error, "SMS_FROM_NUMBER")
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_send_sms_over_the_recipient_limit_fails_in_one_line_and_creates_nothing(sms_settings):
    sms_settings.SMS_MAX_RECIPIENTS = 2
    args = [arg for number in numbers(3) for arg in ("--to", number)]

    out, _, error = run_command("send_sms", *args, "--text", "hi")

    assert_one_line_failure(error, "--to", "3 recipients", "at most 2")
    assert out == ""
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "at",
    [
        pytest.param("9999-12-31T23:59:59-12:00", id="year-9999-far-west"),
        pytest.param("3000-01-01T00:00:00Z", id="year-3000"),
    ],
)
def test_send_sms_far_future_is_one_line_stating_the_limit(sms_settings, at):
    out, _, error = run_command("send_sms", "--to", "+16505550101", "--text", "hi", "--at", at)

    assert_one_line_failure(error, "--at", "more than 365 days ahead", "UTC")
    assert out == ""
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_send_sms_fifteen_seconds_ahead_is_scheduled_for_then(sms_settings):
    when = (timezone.now() + timedelta(seconds=15)).replace(microsecond=0)

    out, _, error = run_command(
        "send_sms", "--to", "+16505550101", "--text", "hi", "--at", f"{when:%FT%TZ}"
    )

    assert error is None
    message = Message.objects.get(pk=int(out))
    assert (message.status, message.send_at) == (Status.SCHEDULED, when)


@pytest.mark.django_db
def test_send_sms_a_time_minutes_ago_is_refused_stating_the_rule(sms_settings):
    when = timezone.now() - timedelta(minutes=5)

    _, _, error = run_command(
        "send_sms", "--to", "+16505550101", "--text", "hi", "--at", f"{when:%FT%TZ}"
    )

    assert_one_line_failure(error, "--at", "is in the past", "UTC", "365 days ahead")
    assert Message.objects.count() == 0


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_send_sms_process_prints_only_ids_and_fails_in_one_line(sms_settings, base_env):
    # transaction=True: the subprocess sees and creates committed rows in the test database.
    env = {
        **base_env,
        "DATABASE_URL": shared_database_url(),
        "SMS_FROM_NUMBER": sms_settings.SMS_FROM_NUMBER,
    }

    def send_sms(*args: str):
        return run_manage("send_sms", *args, env=env)

    sent = send_sms("--to", "+16505550101", "--to", "+16505550102", "--text", "hi")
    assert sent.returncode == 0, sent.stderr
    ids = [int(line) for line in sent.stdout.splitlines()]
    assert sorted(Message.objects.values_list("pk", flat=True)) == sorted(ids)
    assert len(ids) == 2

    refused = send_sms("--to", "555", "--text", "hi")
    assert refused.stdout == ""
    line = one_line_error(refused, "")
    assert "--to" in line
    assert "“555”" in line
    assert Message.objects.count() == 2


# -- --key: run again, sends nothing new -------------------------------------------------------


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
