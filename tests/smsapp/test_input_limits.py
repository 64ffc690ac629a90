"""Bounded input everywhere: recipients per send, raw list size, send times, ids; and who may
see and act on whose texts (a shared team inbox)."""

from __future__ import annotations

import json
import subprocess
import sys
import zoneinfo
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from smsapp import phones, services, views
from smsapp.models import Message
from smsapp.permissions import STAFF_SENDERS_GROUP

Status = Message.Status
TEXT_161 = "a" * 161  # two GSM-7 segments
FAR_WEST = "Etc/GMT+12"  # UTC-12: 9999-12-31 there is already year 10000 in UTC
FAR_EAST = "Etc/GMT-14"  # UTC+14: 0001-01-01 there is still year 0 in UTC


def numbers(count: int, start: int = 0) -> list[str]:
    """Distinct valid US numbers (+1 650 555 xxxx, then 650 556 xxxx)."""
    return [f"+1650{555 + (start + i) // 10_000}{(start + i) % 10_000:04d}" for i in range(count)]


def run(*args: str) -> tuple[str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def assert_one_line(error: CommandError | None, *parts: str) -> None:
    assert error is not None, "the command should have failed"
    assert "\n" not in str(error)
    for part in parts:
        assert part in str(error)


def field_errors(response, field: str) -> str:
    """The text of the error block next to a form field ("" if none)."""
    page = response.content.decode()
    marker = f'id="id_{field}_error"'
    if marker not in page:
        return ""
    start = page.index(marker)
    return page[start : page.index("</div>", start)]


# -- 3. Recipients per send: a limit, and a confirmation above a smaller count ----------------


@pytest.mark.django_db
def test_compose_over_the_recipient_limit_names_count_and_limit_and_creates_nothing(
    sender_client, sms_settings
):
    sms_settings.SMS_MAX_RECIPIENTS = 5
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "\n".join(numbers(6)), "text": "Hi", "confirmed": "6"},
    )
    error = field_errors(response, "to")
    assert "6 recipients" in error
    assert "at most 5" in error
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_compose_above_the_threshold_asks_to_confirm_count_and_segments_first(
    sender_client, sms_settings
):
    sms_settings.SMS_CONFIRM_RECIPIENTS_ABOVE = 2
    data = {"to": ", ".join(numbers(3)), "text": TEXT_161}

    asked = sender_client.post(reverse("smsapp:compose"), data)

    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Send to 3 recipients, 2 segments each, 6 segments in all?" in page
    assert 'name="confirmed" value="3"' in page
    assert "<script>" not in page  # works without JavaScript (and a strict CSP)
    assert Message.objects.count() == 0

    confirmed = sender_client.post(
        reverse("smsapp:compose"), {**data, "confirmed": "3", "action": "confirm"}, follow=True
    )
    assert "3 texts queued for sending." in confirmed.content.decode()
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_back_from_the_confirmation_returns_to_the_filled_form_and_creates_nothing(
    sender_client, sms_settings
):
    sms_settings.SMS_CONFIRM_RECIPIENTS_ABOVE = 2
    data = {"to": ", ".join(numbers(3)), "text": "Back to the form", "confirmed": "3"}

    response = sender_client.post(reverse("smsapp:compose"), {**data, "action": "back"})

    page = response.content.decode()
    assert "Send a text" in page
    assert "Back to the form</textarea>" in page
    assert "segments in all?" not in page
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_a_confirmation_given_for_another_count_asks_again(sender_client, sms_settings):
    sms_settings.SMS_CONFIRM_RECIPIENTS_ABOVE = 2
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": ", ".join(numbers(4)), "text": "Hi", "confirmed": "3", "action": "confirm"},
    )
    assert "Send to 4 recipients, 1 segment each, 4 segments in all?" in response.content.decode()
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_send_sms_over_the_recipient_limit_fails_in_one_line_and_creates_nothing(sms_settings):
    sms_settings.SMS_MAX_RECIPIENTS = 2
    args = [arg for number in numbers(3) for arg in ("--to", number)]

    out, error = run("send_sms", *args, "--text", "hi")

    assert_one_line(error, "--to", "3 recipients", "at most 2")
    assert out == ""
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_more_recipients_than_the_limit(sms_settings):
    sms_settings.SMS_MAX_RECIPIENTS = 2
    with pytest.raises(ValidationError) as raised:
        services.message_create(to_numbers=numbers(3), text="hi")
    assert "at most 2" in " ".join(raised.value.message_dict["to"])
    assert Message.objects.count() == 0


# -- 4. Recipient parsing in linear time, with a bound on the raw input -----------------------


class CountingStr(str):
    """A number that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingStr.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_parsing_compares_each_number_a_bounded_number_of_times(monkeypatch):
    # `n not in list` compares each new number with all the earlier ones: n²/2 comparisons.
    original = phones._format
    monkeypatch.setattr(phones, "_format", lambda number: CountingStr(original(number)))
    CountingStr.comparisons = 0
    typed = numbers(1500)

    parsed, invalid = phones.parse_recipients("\n".join([*typed, *typed[:10]]), "US")

    assert (parsed, invalid) == (typed, [])
    assert CountingStr.comparisons <= 2 * len(typed)


def test_space_separated_numbers_in_one_chunk_are_all_found_in_order():
    typed = numbers(200)
    assert phones.parse_recipients(" ".join(typed) + " nope", "US") == (typed, ["nope"])


@pytest.mark.django_db
def test_preview_refuses_60000_numbers_at_once_without_parsing_them(sender_client, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(views, "parse_recipients", lambda raw, region: calls.append(raw))
    raw = "\n".join(numbers(60_000))

    response = sender_client.post(reverse("smsapp:compose-preview"), {"to": raw, "text": ""})

    assert response.status_code == 400
    assert f"{len(raw):,} characters" in response.json()["error"]
    assert calls == []


@pytest.mark.django_db
def test_preview_says_when_the_list_has_more_numbers_than_one_send_allows(sender_client, settings):
    settings.SMS_MAX_RECIPIENTS = 3
    response = sender_client.post(
        reverse("smsapp:compose-preview"), {"to": ", ".join(numbers(4)), "text": "a" * 161}
    )
    data = response.json()
    assert response.status_code == 200
    assert len(data["numbers"]) == 4
    assert data["max_recipients"] == 3
    assert "4 recipients" in data["error"]
    assert data["segments"] == 2


@pytest.mark.django_db
def test_compose_refuses_an_oversized_list_next_to_the_field(
    sender_client, sms_settings, monkeypatch
):
    calls: list[str] = []
    monkeypatch.setattr("smsapp.forms.parse_recipients", lambda raw, region: calls.append(raw))
    raw = "\n".join(numbers(60_000))

    response = sender_client.post(reverse("smsapp:compose"), {"to": raw, "text": "Hi"})

    assert f"{len(raw):,} characters" in field_errors(response, "to")
    assert calls == []
    assert Message.objects.count() == 0


# -- 5. Dates and ids at the far ends: a clear error or a clamp, never a 500 -----------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "query"),
    [
        (FAR_WEST, {"day_to": "9999-12-31"}),
        (FAR_EAST, {"day_from": "0001-01-01"}),
        (FAR_WEST, {"day_from": "9999-12-31"}),
        ("UTC", {"day_from": "0001-01-01", "day_to": "9999-12-31"}),
    ],
)
def test_history_filters_at_the_ends_of_the_calendar_are_clamped(
    sender_client, sms_settings, zone, query
):
    services.message_create(to_numbers=["+16505550101"], text="today")
    sender_client.cookies["tz"] = zone

    response = sender_client.get(reverse("smsapp:history"), query)

    assert response.status_code == 200
    listed = "+16505550101" in response.content.decode()
    assert listed == (query.get("day_from") != "9999-12-31")


@pytest.mark.django_db
def test_compose_year_9999_in_a_far_west_zone_is_a_field_error_stating_the_rule(
    sender_client, sms_settings
):
    sender_client.cookies["tz"] = FAR_WEST
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": "9999-12-31T23:59"},
    )
    error = field_errors(response, "send_at")
    assert "more than 365 days ahead" in error
    assert FAR_WEST in error
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("days", [366, 365 * 975])  # just over; the year 3000
def test_compose_refuses_a_send_time_beyond_the_schedule_limit(sender_client, sms_settings, days):
    sender_client.cookies["tz"] = "America/New_York"
    later = timezone.localtime(
        timezone.now() + timedelta(days=days), zoneinfo.ZoneInfo("America/New_York")
    )
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": f"{later:%Y-%m-%dT%H:%M}"},
    )
    error = field_errors(response, "send_at")
    assert "more than 365 days ahead" in error
    assert "America/New_York" in error
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_compose_accepts_the_current_minute_as_now(sender_client, sms_settings):
    # The form's times have minute precision: the minute now started is "now", not an error.
    sender_client.cookies["tz"] = "Europe/Paris"
    current = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("Europe/Paris"))
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": f"{current:%Y-%m-%dT%H:%M}"},
        follow=True,
    )
    assert "1 text queued for sending." in response.content.decode()
    assert Message.objects.get().status == Status.QUEUED


@pytest.mark.django_db
def test_compose_refuses_a_time_in_the_past_stating_now_in_the_zone(sender_client, sms_settings):
    sender_client.cookies["tz"] = "America/New_York"
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": "2020-01-01T09:00"},
    )
    error = field_errors(response, "send_at")
    assert "is in the past" in error
    assert "America/New_York" in error
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
    out, error = run("send_sms", "--to", "+16505550101", "--text", "hi", "--at", at)

    assert_one_line(error, "--at", "more than 365 days ahead", "UTC")
    assert out == ""
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_send_sms_fifteen_seconds_ahead_is_scheduled_for_then(sms_settings):
    when = (timezone.now() + timedelta(seconds=15)).replace(microsecond=0)

    out, error = run("send_sms", "--to", "+16505550101", "--text", "hi", "--at", f"{when:%FT%TZ}")

    assert error is None
    message = Message.objects.get(pk=int(out))
    assert (message.status, message.send_at) == (Status.SCHEDULED, when)


@pytest.mark.django_db
def test_send_sms_a_time_minutes_ago_is_refused_stating_the_rule(sms_settings):
    when = timezone.now() - timedelta(minutes=5)

    _, error = run("send_sms", "--to", "+16505550101", "--text", "hi", "--at", f"{when:%FT%TZ}")

    assert_one_line(error, "--at", "is in the past", "UTC", "365 days ahead")
    assert Message.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ahead", "problem"),
    [
        (timedelta(days=366), "more than 365 days ahead"),
        (-timedelta(minutes=5), "is in the past"),
    ],
)
def test_the_service_holds_send_times_to_the_same_rule(sms_settings, ahead, problem):
    with pytest.raises(ValidationError) as raised:
        services.message_create(
            to_numbers=["+16505550101"], text="hi", send_at=timezone.now() + ahead
        )
    assert problem in " ".join(raised.value.message_dict["send_at"])
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_the_service_refuses_a_send_time_past_the_last_date_python_holds(sms_settings):
    far_west = datetime(9999, 12, 31, 23, 59, tzinfo=zoneinfo.ZoneInfo(FAR_WEST))
    with pytest.raises(ValidationError) as raised:
        services.message_create(to_numbers=["+16505550101"], text="hi", send_at=far_west)
    assert "more than 365 days ahead" in " ".join(raised.value.message_dict["send_at"])


@pytest.mark.django_db
def test_status_endpoint_ignores_ids_that_cannot_be_message_ids(sender_client, sms_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    ids = f"{message.pk},99999999999999999999,\N{SUPERSCRIPT TWO},-3,0"

    response = sender_client.get(reverse("smsapp:statuses"), {"ids": ids})

    assert response.status_code == 200
    assert list(response.json()["messages"]) == [str(message.pk)]


@pytest.mark.django_db
def test_sms_status_with_an_id_beyond_64_bits_is_one_line(sms_settings):
    _, error = run("sms_status", "99999999999999999999")
    assert_one_line(error, "No message with id 99999999999999999999")


@pytest.mark.django_db
def test_sms_status_with_a_word_for_an_id_is_one_line(sms_settings):
    _, error = run("sms_status", "seven")
    assert_one_line(error, "“seven”")


# SQLite raises OverflowError for integers beyond 64 bits where PostgreSQL finds no row.
SQLITE_STATUS_PROBE = """
import json
from django.contrib.auth.models import Group, User
from django.test import Client
from django.test.utils import setup_test_environment
from smsapp.permissions import STAFF_SENDERS_GROUP
setup_test_environment()
user = User.objects.create_user("probe")
user.groups.add(Group.objects.get(name=STAFF_SENDERS_GROUP))
client = Client(raise_request_exception=False)
client.force_login(user)
answer = client.get("/messages/status.json?ids=1,99999999999999999999")
detail = client.get("/messages/99999999999999999999/")
cancel = client.post("/messages/99999999999999999999/cancel/")
print("ANSWER=" + json.dumps([answer.status_code, answer.content.decode()]))
print("PAGES=" + json.dumps([detail.status_code, cancel.status_code]))
"""


def test_huge_ids_on_sqlite_are_ignored_by_the_page_and_refused_by_the_command(
    base_env, project_root: Path, tmp_path
):
    env = {**base_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=project_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert manage("migrate", "-v0").returncode == 0
    probe = manage("shell", "-c", SQLITE_STATUS_PROBE)
    answer = next(line for line in probe.stdout.splitlines() if line.startswith("ANSWER="))
    status, body = json.loads(answer.removeprefix("ANSWER="))
    assert (status, json.loads(body)) == (200, {"messages": {}}), probe.stderr
    pages = next(line for line in probe.stdout.splitlines() if line.startswith("PAGES="))
    assert json.loads(pages.removeprefix("PAGES=")) == [404, 404]

    refused = manage("sms_status", "99999999999999999999")
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    # The last line: start-up log records (INFO) may come before it.
    assert refused.stderr.strip().splitlines()[-1] == (
        "CommandError: No message with id 99999999999999999999; nothing shown."
    )


# -- 10. A shared team inbox: every sender acts on every text; nobody else on any --------------


@pytest.mark.django_db
def test_a_second_sender_sees_cancels_and_retries_the_first_senders_texts(
    client, sender, django_user_model, staff_senders, sms_settings
):
    later = timezone.now() + timedelta(hours=1)
    [scheduled] = services.message_create(
        to_numbers=["+16505550101"], text="from sam", created_by=sender, send_at=later
    )
    [failed] = services.message_create(
        to_numbers=["+16505550102"], text="from sam", created_by=sender
    )
    Message.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    other = django_user_model.objects.create_user("alex", password="another-test-password")
    other.groups.add(staff_senders)
    client.force_login(other)

    history = client.get(reverse("smsapp:history")).content.decode()
    assert "+16505550101" in history
    assert "+16505550102" in history
    detail = client.get(reverse("smsapp:detail", args=[scheduled.pk]))
    assert "from sam" in detail.content.decode()
    client.post(reverse("smsapp:cancel", args=[scheduled.pk]))
    client.post(reverse("smsapp:retry", args=[failed.pk]))

    scheduled.refresh_from_db()
    failed.refresh_from_db()
    assert scheduled.status == Status.CANCELED
    assert failed.status == Status.QUEUED
    # The timeline says who acted, since it may not be the sender.
    assert "Canceled before it was sent by alex" in scheduled.events.values_list(
        "description", flat=True
    )
    assert "Retry requested by alex" in failed.events.values_list("description", flat=True)


@pytest.fixture(params=["plain", "staff", "other-permissions"])
def signed_in_non_sender(request, client, django_user_model):
    """Signed in, but not a sender: a plain user, an admin-site staff user, or one holding
    every other smsapp permission (view, change, delete messages)."""
    user = django_user_model.objects.create_user(
        "visitor", password="pw-123456789", is_staff=request.param == "staff"
    )
    if request.param == "other-permissions":
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="smsapp").exclude(codename="send_sms")
        )
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_signed_in_user_without_the_send_permission_gets_403_everywhere(
    signed_in_non_sender, sms_settings
):
    client = signed_in_non_sender
    [scheduled] = services.message_create(
        to_numbers=["+16505550101"], text="hi", send_at=timezone.now() + timedelta(hours=1)
    )
    [failed] = services.message_create(to_numbers=["+16505550102"], text="hi")
    Message.objects.filter(pk=failed.pk).update(status=Status.FAILED)
    attempts = [
        ("get", reverse("smsapp:compose"), {}),
        ("post", reverse("smsapp:compose"), {"to": "+16505550103", "text": "hi"}),
        ("post", reverse("smsapp:compose-preview"), {"to": "+16505550103", "text": "hi"}),
        ("get", reverse("smsapp:history"), {}),
        ("get", reverse("smsapp:statuses"), {"ids": f"{scheduled.pk},{failed.pk}"}),
        ("get", reverse("smsapp:detail", args=[scheduled.pk]), {}),
        ("post", reverse("smsapp:cancel", args=[scheduled.pk]), {}),
        ("post", reverse("smsapp:retry", args=[failed.pk]), {}),
    ]
    for method, url, data in attempts:
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
        page = response.content.decode()
        assert STAFF_SENDERS_GROUP in page, (method, url)
        assert "+1650555010" not in page, (method, url)
    assert sorted(Message.objects.values_list("status", flat=True)) == [
        Status.FAILED,
        Status.SCHEDULED,
    ]
