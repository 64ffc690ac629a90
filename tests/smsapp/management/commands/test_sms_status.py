"""smsapp/management/commands/sms_status.py: JSON for scripts, aligned columns for people,
one-line failures for ids that are not texts."""

from __future__ import annotations

import json

import pytest

from smsapp import services
from smsapp.models import Message
from tests.support.commands import assert_one_line_failure, run_command

Status = Message.Status


@pytest.mark.django_db
def test_sms_status_json_shows_a_sent_message_with_its_provider_id(sms_settings, simulator):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    services.message_send(message_id=message.pk)
    [stored] = simulator.messages()

    out, _, error = run_command("sms_status", "--json", str(message.pk))

    assert error is None
    [shown] = json.loads(out)  # the whole of stdout is the JSON
    assert shown["id"] == message.pk
    assert shown["status"] == "sent"
    assert shown["provider_message_id"] == str(stored["id"])
    assert shown["error"] is None
    assert shown["to"] == "+16505550101"
    assert shown["sent_at"] is not None
    assert {"created_at", "send_at", "delivered_at", "error_code"} <= shown.keys()


@pytest.mark.django_db
def test_sms_status_json_gives_the_reason_a_message_failed(sms_settings, simulator):
    sms_settings.SMS_FROM_NUMBER = "+16505550123"  # not the extension's number: MSG-242
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    services.message_send(message_id=message.pk)

    out, _, _ = run_command("sms_status", "--json", str(message.pk))

    [shown] = json.loads(out)
    assert shown["status"] == "failed"
    assert shown["error_code"] == "MSG-242"
    assert "SMS_FROM_NUMBER" in shown["error"]


@pytest.mark.django_db
def test_sms_status_with_an_unknown_id_fails_naming_it_and_prints_nothing(sms_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    unknown = message.pk + 1000

    out, _, error = run_command("sms_status", str(message.pk), str(unknown))

    assert_one_line_failure(error, str(unknown))
    assert out == ""


@pytest.mark.django_db
def test_sms_status_without_ids_lists_the_20_most_recent_in_aligned_columns(sms_settings):
    created = [
        services.message_create(to_numbers=[f"+165055501{n:02}"], text="hi")[0] for n in range(21)
    ]
    failed = created[-1]
    long_reason = "The carrier refused it. " * 10
    Message.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, error_code="SMS-CAR-999", error_reason=long_reason
    )

    out, _, error = run_command("sms_status")

    assert error is None
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "STATUS", "TO", "PROVIDER", "ID", "WHEN", "ERROR"]
    assert len(rows) == 20
    assert rows[0].split()[:3] == [str(failed.pk), "failed", failed.to_number]
    assert created[0].to_number not in out  # the oldest is the 21st
    # Columns line up: every row's status starts where the header's does.
    column = header.index("STATUS")
    assert all(row[column - 2 : column] == "  " and row[column] != " " for row in rows)
    assert long_reason.strip() not in out
    assert rows[0].endswith("…")


@pytest.mark.django_db
def test_sms_status_with_an_id_beyond_64_bits_is_one_line(sms_settings):
    _, _, error = run_command("sms_status", "99999999999999999999")
    assert_one_line_failure(error, "No message with id 99999999999999999999")


@pytest.mark.django_db
def test_sms_status_with_a_word_for_an_id_is_one_line(sms_settings):
    _, _, error = run_command("sms_status", "seven")
    assert_one_line_failure(error, "“seven”")
