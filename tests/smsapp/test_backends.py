"""Choosing a backend by setting, and the development/test backends doing their job."""

from __future__ import annotations

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from smsapp import services
from smsapp.backends import get_backend, locmem
from smsapp.backends.base import TransientSmsError
from smsapp.backends.console import ConsoleBackend
from smsapp.backends.error_text import describe
from smsapp.backends.ringcentral import RingCentralBackend
from smsapp.models import Message


def test_aliases_and_dotted_paths_pick_the_backend(settings):
    settings.SMS_BACKEND = "ringcentral"
    assert isinstance(get_backend(), RingCentralBackend)
    assert isinstance(get_backend("smsapp.backends.console.ConsoleBackend"), ConsoleBackend)


def test_an_unknown_backend_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="SMS_BACKEND 'carrier-pigeon'"):
        get_backend("carrier-pigeon")


@pytest.mark.django_db
def test_the_locmem_backend_keeps_sent_texts_in_its_outbox(sms_settings):
    sms_settings.SMS_BACKEND = "locmem"
    locmem.outbox.clear()
    [message] = services.message_create(to_numbers=["+16505550101"], text="kept, not sent")
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    [(provider_id, _, sms)] = locmem.outbox
    assert (provider_id, sms.to_number, sms.text) == (
        message.provider_message_id,
        "+16505550101",
        "kept, not sent",
    )


@pytest.mark.django_db
def test_the_console_backend_prints_the_text(sms_settings, capsys):
    sms_settings.SMS_BACKEND = "console"
    [message] = services.message_create(to_numbers=["+16505550101"], text="printed")
    services.message_send(message_id=message.pk)
    assert "+16505550100 -> +16505550101: printed" in capsys.readouterr().out


# -- what a transport error keeps: its cause, in words without secrets ----------------------


def test_an_error_text_names_the_cause_without_query_strings_or_credentials():
    with pytest.raises(requests.ConnectionError) as refused:
        # Nothing listens on port 9; a token in the query string must not be repeated.
        requests.get("http://127.0.0.1:9/restapi/v1.0/x?access_token=SECRET1", timeout=2)
    text = describe(refused.value)
    assert text.startswith("ConnectionError: ")
    assert "Connection refused" in text
    assert "SECRET1" not in text
    quoted = Exception(
        "for https://bot:SECRET2@example.com/a?token=SECRET3 with Authorization: Bearer SECRET4"
    )
    text = describe(quoted)
    assert "example.com/a?..." in text
    assert not any(secret in text for secret in ("SECRET2", "SECRET3", "SECRET4"))


@pytest.mark.django_db
def test_a_failed_ringcentral_call_keeps_its_cause_for_the_log_and_the_reason(
    sms_settings, simulator, caplog
):
    simulator.inject_fault("drop", group="Light")  # the connection closes without an answer
    with pytest.raises(TransientSmsError) as failed:
        RingCentralBackend().delivery("123")
    cause = failed.value.__cause__
    assert isinstance(cause, requests.ConnectionError)
    detail = describe(cause)
    assert "RemoteDisconnected" in detail  # what happened, not only "ConnectionError"
    assert failed.value.reason == f"could not reach RingCentral ({detail})"
    assert any(detail in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


@pytest.mark.django_db
def test_a_send_that_got_no_answer_says_why_in_its_timeline(sms_settings, simulator):
    simulator.inject_fault("drop", group="Medium")
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hello")
    services.message_send(message_id=message.pk)
    [uncertain] = message.events.filter(status=Message.Status.UNCERTAIN)
    assert "RemoteDisconnected" in uncertain.description
    assert sms_settings.RINGCENTRAL_PASSWORD not in uncertain.description
