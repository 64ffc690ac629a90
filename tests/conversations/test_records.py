"""RingCentral records as the API publishes them: numbers "usually" E.164, text in subject."""

from __future__ import annotations

import pytest

from conversations.records import inbound_record, is_inbound_sms, normalised


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+16505550123", "+16505550123"),
        ("16505550123", "+16505550123"),  # plain digits with the country code
        ("(650) 555-0123", "+16505550123"),  # formatted, as the definitions allow
        ("447911123456", "+447911123456"),  # another country, without "+"
        ("22395", "22395"),  # a short code keeps its own form
    ],
)
def test_numbers_are_read_as_numbers_whatever_form_the_record_uses(settings, raw, expected):
    settings.SMS_DEFAULT_REGION = "US"
    assert normalised(raw) == expected


def test_a_webhook_body_gives_the_words_from_subject_and_our_number_from_the_target(settings):
    settings.SMS_DEFAULT_REGION = "US"
    body = {
        "id": "1724098000",
        "from": {"phoneNumber": "+16505550199"},
        "to": [{"phoneNumber": "+16505550177"}, {"phoneNumber": "16505550100", "target": True}],
        "type": "SMS",
        "direction": "Inbound",
        "subject": "Running 5 min late",
        "creationTime": "2026-11-30T14:00:00.000Z",
    }
    record = inbound_record(body)
    assert is_inbound_sms(body)
    assert record is not None
    assert (record.ringcentral_id, record.from_number, record.to_number, record.text) == (
        "1724098000",
        "+16505550199",
        "+16505550100",
        "Running 5 min late",
    )
    assert record.received_at.isoformat() == "2026-11-30T14:00:00+00:00"


@pytest.mark.parametrize(
    "body",
    [
        {"direction": "Outbound", "type": "SMS"},
        {"direction": "Inbound", "type": "Fax"},
        {"direction": "Inbound", "type": "VoiceMail"},
    ],
)
def test_only_inbound_texts_enter_the_inbound_pipeline(body):
    assert not is_inbound_sms(body)


def test_a_record_without_an_id_or_sender_is_not_stored():
    assert inbound_record({"direction": "Inbound", "from": {"phoneNumber": "+16505550199"}}) is None
    assert inbound_record({"direction": "Inbound", "id": 5, "from": {}}) is None
