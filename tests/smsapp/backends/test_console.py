"""smsapp/backends/console.py: texts are printed, not sent (for development)."""

from __future__ import annotations

import pytest

from smsapp import services


@pytest.mark.django_db
def test_the_console_backend_prints_the_text(sms_settings, capsys):
    sms_settings.SMS_BACKEND = "console"
    [message] = services.message_create(to_numbers=["+16505550101"], text="printed")
    services.message_send(message_id=message.pk)
    assert "+16505550100 -> +16505550101: printed" in capsys.readouterr().out
