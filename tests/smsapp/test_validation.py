"""One rule, one wording: the compose form, send_sms and the service refuse the same input
with the same words (smsapp.validation), and the status flags are defined once on Message."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from smsapp import services
from smsapp.forms import ComposeForm
from smsapp.models import Message
from smsapp.phones import is_e164
from smsapp.services.messages import message_cancel, message_retry

pytestmark = pytest.mark.django_db
Status = Message.Status
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


def test_an_empty_field_reads_as_a_blank_one(sms_settings):
    """Django's "This field is required." would be a second wording of the same rule."""
    assert form_error("to", "", "hi") == service_error("to", [], "hi")
    assert form_error("text", "+16505550101", "") == service_error("text", ["+16505550101"], "")


def test_the_service_names_a_number_that_is_not_e164_as_the_form_does(sms_settings):
    """A script may hand the service anything: "+1 650 555 0101" is a number to the form, but
    the service only takes E.164, and says so in the form's words."""
    error = service_error("to", ["+1 650 555 0101"], "hi")
    assert error.startswith("Not a valid phone number: “+1 650 555 0101”.")
    assert is_e164("+16505550123")  # the example the error gives is itself valid


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


# -- status flags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "terminal", "can_cancel", "can_retry"),
    [
        (Status.SCHEDULED, False, True, False),
        (Status.QUEUED, False, False, False),
        (Status.SENDING, False, False, False),
        (Status.UNCERTAIN, False, False, False),
        (Status.SENT, False, False, False),
        (Status.DELIVERED, True, False, False),
        (Status.FAILED, True, False, True),
        (Status.CANCELED, True, False, False),
    ],
)
def test_each_status_says_whether_it_is_final_and_what_a_person_may_do(
    status, terminal, can_cancel, can_retry
):
    message = Message(status=status)
    assert (message.terminal, message.can_cancel, message.can_retry) == (
        terminal,
        can_cancel,
        can_retry,
    )


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


def test_the_status_answer_carries_the_flags_for_the_page(sender_client, sms_settings):
    [failed, scheduled] = services.message_create(
        to_numbers=["+16505550101", "+16505550102"], text="hi"
    )
    Message.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    Message.objects.filter(pk=scheduled.pk).update(status=Status.SCHEDULED)
    ids = f"{failed.pk},{scheduled.pk}"

    answer = sender_client.get(reverse("smsapp:statuses"), {"ids": ids, "view": "history"}).json()

    for shape in (answer["messages"], answer["rows"]):
        flags = {
            pk: (row["terminal"], row["can_cancel"], row["can_retry"]) for pk, row in shape.items()
        }
        assert flags == {
            str(failed.pk): (True, False, True),
            str(scheduled.pk): (False, True, False),
        }


def test_the_pages_mark_a_final_status_so_the_script_stops_asking(sender_client, sms_settings):
    [failed, queued] = services.message_create(
        to_numbers=["+16505550101", "+16505550102"], text="hi"
    )
    Message.objects.filter(pk=failed.pk).update(status=Status.FAILED)

    history = sender_client.get(reverse("smsapp:history")).content.decode()
    detail = sender_client.get(reverse("smsapp:detail", args=[failed.pk])).content.decode()

    assert f'data-status-for="{failed.pk}" data-terminal>' in history
    assert f'data-status-for="{queued.pk}">' in history
    assert f'data-status-for="{failed.pk}" data-terminal>' in detail
    assert "Send again" in detail
