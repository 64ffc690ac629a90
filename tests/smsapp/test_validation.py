"""smsapp/validation.py: one rule, one wording: the compose form, send_sms and the service
refuse the same input with the same words."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from smsapp import services, validation
from smsapp.forms import ComposeForm
from smsapp.models import Message
from smsapp.phones import is_e164
from tests.support.texts import FAR_EAST, FAR_WEST

OPTION = {"to": "--to", "text": "--text"}


def form_error(field: str, to: str, text: str) -> str:
    form = ComposeForm(data={"to": to, "text": text})
    assert not form.is_valid()
    return " ".join(form.errors[field])


def service_error(field: str, to: list[str], text: str) -> str:
    with pytest.raises(ValidationError) as refused:
        services.message_create(to_numbers=to, text=text)
    return " ".join(refused.value.message_dict[field])


def command_error(to: list[str], text: str) -> str:
    args = [arg for number in to for arg in ("--to", number)]
    with pytest.raises(CommandError) as refused:
        call_command("send_sms", *args, "--text", text, stdout=StringIO(), stderr=StringIO())
    return str(refused.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "to", "text"),
    [
        pytest.param("to", ["+16505550101", "555"], "hi", id="invalid-number"),
        pytest.param("to", ["+16505550101", "+16505550102", "+16505550103"], "hi", id="too-many"),
        pytest.param("text", ["+16505550101"], "   ", id="blank-text"),
        pytest.param("text", ["+16505550101"], "a" * 999 + "\N{GRINNING FACE}", id="too-long"),
    ],
)
def test_the_form_the_command_and_the_service_refuse_with_the_same_words(
    sms_settings, field, to, text
):
    sms_settings.SMS_MAX_RECIPIENTS = 2
    from_form = form_error(field, "\n".join(to), text)

    assert service_error(field, to, text) == from_form
    assert command_error(to, text) == f"{OPTION[field]}: {from_form}"
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_an_empty_field_reads_as_a_blank_one(sms_settings):
    """Django's "This field is required." would be a second wording of the same rule."""
    assert form_error("to", "", "hi") == service_error("to", [], "hi")
    assert form_error("text", "+16505550101", "") == service_error("text", ["+16505550101"], "")


@pytest.mark.django_db
def test_the_service_names_a_number_that_is_not_e164_as_the_form_does(sms_settings):
    """A script may hand the service anything: "+1 650 555 0101" is a number to the form, but
    the service only takes E.164, and says so in the form's words."""
    error = service_error("to", ["+1 650 555 0101"], "hi")
    assert error.startswith("Not a valid phone number: “+1 650 555 0101”.")
    assert is_e164("+16505550123")  # the example the error gives is itself valid


@pytest.mark.django_db
def test_the_send_time_rule_reads_the_same_on_the_form_and_in_the_service(sms_settings):
    too_late = timezone.now() + timedelta(days=400)
    form = ComposeForm(
        data={"to": "+16505550101", "text": "hi", "send_at": too_late.strftime("%Y-%m-%dT%H:%M")}
    )
    assert not form.is_valid()
    with pytest.raises(ValidationError) as refused:
        services.message_create(to_numbers=["+16505550101"], text="hi", send_at=too_late)
    # The same rule stated (the times in it are each shown as given, to the minute).
    rule = "is more than 365 days ahead: pick a time from now up to 365 days ahead (until "
    assert rule in form.errors["send_at"][0]
    assert rule in " ".join(refused.value.message_dict["send_at"])


# -- the rules themselves, without a caller (no database) -------------------------------------

NOW = datetime(2026, 12, 1, 14, 15, tzinfo=UTC)


def test_every_broken_rule_of_a_send_is_named_under_its_own_field():
    with pytest.raises(ValidationError) as refused:
        validation.validate_send(
            to_numbers=["555"], text=" ", send_at=NOW - timedelta(days=1), from_number="", now=NOW
        )
    assert sorted(refused.value.message_dict) == ["__all__", "send_at", "text", "to"]
    assert "SMS_FROM_NUMBER" in refused.value.message_dict["__all__"][0]


def test_a_send_time_within_the_grace_is_now_and_before_it_is_past():
    grace = validation.SEND_AT_GRACE
    validation.validate_send_at(NOW - grace + timedelta(seconds=1), now=NOW)  # sent at once
    with pytest.raises(ValidationError) as refused:
        validation.validate_send_at(NOW - grace - timedelta(seconds=1), now=NOW)
    assert refused.value.code == "send_at_past"


def test_the_schedule_limit_counts_days_from_now(settings):
    settings.SMS_MAX_SCHEDULE_DAYS = 30
    validation.validate_send_at(NOW + timedelta(days=30), now=NOW)
    with pytest.raises(ValidationError) as refused:
        validation.validate_send_at(NOW + timedelta(days=30, minutes=1), now=NOW)
    assert refused.value.code == "send_at_too_late"
    assert "more than 30 days ahead" in refused.value.message


@pytest.mark.parametrize(
    ("when", "code"),
    [
        # Year 10000 once in UTC: beyond what a datetime holds, still "too late".
        (datetime(9999, 12, 31, 23, 59, tzinfo=zoneinfo.ZoneInfo(FAR_WEST)), "send_at_too_late"),
        # Year 0 once in UTC: "in the past".
        (datetime(1, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(FAR_EAST)), "send_at_past"),
    ],
    ids=["last-day-far-west", "first-day-far-east"],
)
def test_the_ends_of_the_calendar_get_the_rule_not_an_overflow(when, code):
    with pytest.raises(ValidationError) as refused:
        validation.validate_send_at(when, now=NOW)
    assert refused.value.code == code


def test_many_bad_numbers_are_named_up_to_ten_and_counted_beyond():
    bad = [f"bad{i}" for i in range(1, 13)]
    with pytest.raises(ValidationError) as refused:
        validation.validate_recipients([], invalid=bad)
    message = refused.value.message
    assert "“bad10”" in message
    assert "“bad11”" not in message
    assert "and 2 more" in message


def test_the_typed_list_is_bounded_by_the_recipient_limit_before_parsing(settings):
    settings.SMS_MAX_RECIPIENTS = 2
    longest = 2 * validation.CHARS_PER_RECIPIENT
    validation.validate_recipients_input("x" * longest)
    with pytest.raises(ValidationError) as refused:
        validation.validate_recipients_input("x" * (longest + 1))
    assert refused.value.code == "recipients_input_too_long"


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("9c0e6a7b-2f31-4b8e-9a57-0d6f3f1c2b11", True),  # a UUID
        ("a", True),
        ("x" * 64, True),
        ("batch:2026-12-01.1", True),
        ("", False),
        (None, False),
        ("x" * 65, False),
        ("has space", False),
        ("ключ", False),  # echoed in a hidden field: a safe set of letters only
        ("<script>", False),
    ],
)
def test_a_submission_key_is_a_short_token_of_safe_characters(key, valid):
    assert validation.is_submission_key(key) is valid


def test_a_time_is_stated_as_given_with_its_zones_name_or_offset():
    kolkata = datetime(2026, 12, 1, 19, 45, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata"))
    typed_offset = datetime(2026, 12, 1, 16, 15, tzinfo=dt_timezone(timedelta(hours=2)))
    assert validation.as_given(kolkata) == "2026-12-01 19:45 Asia/Kolkata"
    assert validation.as_given(typed_offset) == "2026-12-01 16:15 UTC+02:00"


def test_problem_gives_the_words_of_a_refusal_or_none():
    assert validation.problem(validation.validate_text, "") == validation.NO_TEXT
    assert validation.problem(validation.validate_text, "Hi") is None
