"""Choosing a backend by setting, and the development/test backends doing their job."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from smsapp import services
from smsapp.backends import get_backend, locmem
from smsapp.backends.console import ConsoleBackend
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
