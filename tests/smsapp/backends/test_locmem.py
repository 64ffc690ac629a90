"""smsapp/backends/locmem.py: sent texts are kept in an outbox (for tests and development)."""

from __future__ import annotations

import pytest

from smsapp import services
from smsapp.backends import locmem
from smsapp.models import Message


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
