"""send_sms and sms_status: the web form's validation on the command line, output for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from smsapp import services
from smsapp.models import Message
from tests.shared_db import shared_database_url

Status = Message.Status
EMOJI = "\N{GRINNING FACE}"  # two UTF-16 units


def run(*args: str) -> tuple[str, str, CommandError | None]:
    """stdout, stderr, and the CommandError if the command failed."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def assert_one_line_failure(error: CommandError | None, *names: str) -> None:
    assert error is not None, "the command should have failed"
    assert "\n" not in str(error)
    for name in names:
        assert name in str(error)


# -- send_sms --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_sms_prints_one_id_per_recipient_and_queues_each(sms_settings):
    out, _, error = run(
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
    out, _, error = run("send_sms", "--to", "+16505550101", "--to", "555", "--text", "hi")

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
    out, _, error = run("send_sms", "--to", "+16505550101", "--text", "hi", "--at", at)

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

    out, _, error = run("send_sms", "--to", "+16505550101", "--text", "later", "--at", text)

    assert error is None
    [message] = Message.objects.filter(pk=int(out))
    assert message.status == Status.SCHEDULED
    assert message.send_at == when


@pytest.mark.django_db
def test_send_sms_counts_an_emoji_as_two_of_the_thousand_characters(sms_settings):
    out, _, error = run("send_sms", "--to", "+16505550101", "--text", "a" * 999 + EMOJI)

    assert_one_line_failure(error, "--text", "1001")
    assert out == ""
    assert Message.objects.count() == 0

    out, _, error = run("send_sms", "--to", "+16505550101", "--text", "a" * 998 + EMOJI)
    assert error is None
    assert Message.objects.get(pk=int(out)).text == "a" * 998 + EMOJI


@pytest.mark.django_db
def test_send_sms_reports_a_missing_sender_number_in_one_line(sms_settings):
    sms_settings.SMS_FROM_NUMBER = ""

    _, _, error = run("send_sms", "--to", "+16505550101", "--text", "hi")

    assert_one_line_failure(error, "SMS_FROM_NUMBER")
    assert Message.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_send_sms_process_prints_only_ids_and_fails_in_one_line(
    sms_settings, base_env, project_root: Path
):
    # transaction=True: the subprocess sees and creates committed rows in the test database.
    env = {
        **base_env,
        "DATABASE_URL": shared_database_url(),
        "SMS_FROM_NUMBER": sms_settings.SMS_FROM_NUMBER,
    }

    def send_sms(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "send_sms", *args],
            cwd=project_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    sent = send_sms("--to", "+16505550101", "--to", "+16505550102", "--text", "hi")
    assert sent.returncode == 0, sent.stderr
    ids = [int(line) for line in sent.stdout.splitlines()]
    assert sorted(Message.objects.values_list("pk", flat=True)) == sorted(ids)
    assert len(ids) == 2

    refused = send_sms("--to", "555", "--text", "hi")
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "--to" in line
    assert "“555”" in line
    assert Message.objects.count() == 2


# -- sms_status --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sms_status_json_shows_a_sent_message_with_its_provider_id(sms_settings, simulator):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    services.message_send(message_id=message.pk)
    [stored] = simulator.messages()

    out, _, error = run("sms_status", "--json", str(message.pk))

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

    out, _, _ = run("sms_status", "--json", str(message.pk))

    [shown] = json.loads(out)
    assert shown["status"] == "failed"
    assert shown["error_code"] == "MSG-242"
    assert "SMS_FROM_NUMBER" in shown["error"]


@pytest.mark.django_db
def test_sms_status_with_an_unknown_id_fails_naming_it_and_prints_nothing(sms_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    unknown = message.pk + 1000

    out, _, error = run("sms_status", str(message.pk), str(unknown))

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

    out, _, error = run("sms_status")

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
