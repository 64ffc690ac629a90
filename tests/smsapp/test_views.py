"""smsapp/views.py: the staff pages (compose, preview, history, statuses, detail, cancel,
Send again, Your settings) through Django's test client, and who may use them."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from smsapp import services, views
from smsapp.models import Message, UserPreferences
from smsapp.permissions import STAFF_SENDERS_GROUP
from tests.support.pages import compose_at, field_errors, in_two_days, page_text
from tests.support.texts import (
    FAR_EAST,
    FAR_WEST,
    create_text,
    delivery_failed,
    numbers,
)

pytestmark = pytest.mark.django_db
Status = Message.Status
KEY = "9c0e6a7b-2f31-4b8e-9a57-0d6f3f1c2b11"
TEXT_161 = "a" * 161  # two GSM-7 segments
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
OPTED_OUT = "+16505550177"
# What the status answer says about a text just queued: the detail page's whole answer.
QUEUED_STATUS = {
    "status": "queued",
    "label": "queued",
    "error": None,
    "terminal": False,
    "can_cancel": False,
    "can_retry": False,
}


# -- who may use the pages: staff senders, a shared team inbox ---------------------------------


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("smsapp:compose"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signed_in_users_without_the_permission_get_a_clear_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-123456789"))
    response = client.get(reverse("smsapp:history"))
    assert response.status_code == 403
    assert STAFF_SENDERS_GROUP in response.content.decode()


def test_login_page_signs_in_a_sender(client, sender):
    response = client.post(
        reverse("login"), {"username": "sam", "password": "a-long-test-password"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("smsapp:compose")
    assert "Send a text" in response.content.decode()


def test_actions_need_the_send_permission(client, django_user_model, sms_settings):
    [message] = services.message_create(
        to_numbers=["+16505550101"], text="hi", send_at=timezone.now() + timedelta(hours=1)
    )
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-123456789"))
    assert client.post(reverse("smsapp:cancel", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED


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


# -- compose -----------------------------------------------------------------------------------


def test_compose_queues_one_text_per_number_and_says_how_many(sender_client, sms_settings):
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+1 650 555 0101, (650) 555-0102\n+16505550101", "text": "Hello"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("smsapp:history")
    assert "2 texts queued for sending." in response.content.decode()
    assert sorted(Message.objects.values_list("to_number", flat=True)) == [
        "+16505550101",
        "+16505550102",
    ]
    assert set(Message.objects.values_list("created_by__username", flat=True)) == {"sam"}


def test_an_invalid_number_is_named_next_to_the_field_and_nothing_is_created(
    sender_client, sms_settings
):
    response = sender_client.post(
        reverse("smsapp:compose"), {"to": "+16505550101, 555-12, hello", "text": "Hello"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "“555-12”" in page
    assert "“hello”" in page
    assert 'id="id_to_error"' in page
    assert Message.objects.count() == 0


def test_text_over_the_limit_is_refused_counting_emoji_as_two(sender_client, sms_settings):
    response = sender_client.post(
        reverse("smsapp:compose"), {"to": "+16505550101", "text": "a" * 999 + "😀"}
    )
    assert "1001 characters long" in response.content.decode()
    assert Message.objects.count() == 0


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


# -- compose: a confirmation above a count of recipients ---------------------------------------


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


def test_the_confirmation_states_the_send_time_with_its_zone(sender_client, sms_settings):
    sender_client.cookies["tz"] = "Asia%2FKolkata"
    local = in_two_days(KOLKATA)
    many = ", ".join(f"+1650555{i:04d}" for i in range(11))  # above the confirmation threshold

    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": many, "text": "Hi", "send_at": f"{local:%Y-%m-%dT%H:%M}"},
    )

    assert f"They will go out at {local:%Y-%m-%d %H:%M} IST (Asia/Kolkata)." in page_text(response)


# -- compose: the send time, in the person's zone, within the schedule limit -------------------


def test_send_at_is_read_in_the_browsers_time_zone_and_must_be_in_the_future(
    sender_client, sms_settings
):
    sender_client.cookies["tz"] = "America/New_York"
    past = compose_at(sender_client, "2020-01-01T09:00")
    assert "2020-01-01 09:00 America/New_York is in the past" in past.content.decode()
    later = timezone.now() + timedelta(days=2)
    local = timezone.localtime(later, timezone=zoneinfo.ZoneInfo("America/New_York"))
    response = compose_at(sender_client, local.strftime("%Y-%m-%dT%H:%M"), follow=True)
    assert "1 text scheduled for" in response.content.decode()
    message = Message.objects.get()
    assert message.status == Status.SCHEDULED
    assert abs(message.send_at - later) < timedelta(minutes=1)


def test_the_send_at_error_states_the_rule_in_the_persons_zone(sender_client, sender):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    sender_client.cookies["tz"] = "America%2FNew_York"

    response = compose_at(sender_client, "2020-01-01T09:00")

    error = field_errors(response, "send_at")
    assert "2020-01-01 09:00 Asia/Kolkata is in the past (it is now " in error
    assert "pick a time from now up to 365 days ahead (until " in error
    assert "America/New_York" not in error
    assert Message.objects.count() == 0


def test_a_time_that_does_not_exist_in_the_zone_is_a_field_error(sender_client, sender):
    # 2:30 on the day clocks in New York jump from 2:00 to 3:00.
    UserPreferences.objects.create(user=sender, time_zone="America/New_York")
    spring = datetime.now(NEW_YORK).year + 1
    day = next(
        datetime(spring, 3, d, 12, tzinfo=NEW_YORK)
        for d in range(8, 15)
        if datetime(spring, 3, d).weekday() == 6
    )

    response = compose_at(sender_client, f"{day:%Y-%m-%d}T02:30")

    assert response.status_code == 200
    assert "America/New_York" in field_errors(response, "send_at")
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_compose_year_9999_in_a_far_west_zone_is_a_field_error_stating_the_rule(
    sender_client, sms_settings
):
    sender_client.cookies["tz"] = FAR_WEST
    response = compose_at(sender_client, "9999-12-31T23:59")
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
    response = compose_at(sender_client, f"{later:%Y-%m-%dT%H:%M}")
    error = field_errors(response, "send_at")
    assert "more than 365 days ahead" in error
    assert "America/New_York" in error
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_compose_accepts_the_current_minute_as_now(sender_client, sms_settings):
    # The form's times have minute precision: the minute now started is "now", not an error.
    sender_client.cookies["tz"] = "Europe/Paris"
    current = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("Europe/Paris"))
    response = compose_at(sender_client, f"{current:%Y-%m-%dT%H:%M}", follow=True)
    assert "1 text queued for sending." in response.content.decode()
    assert Message.objects.get().status == Status.QUEUED


@pytest.mark.django_db
def test_compose_refuses_a_time_in_the_past_stating_now_in_the_zone(sender_client, sms_settings):
    sender_client.cookies["tz"] = "America/New_York"
    response = compose_at(sender_client, "2020-01-01T09:00")
    error = field_errors(response, "send_at")
    assert "is in the past" in error
    assert "America/New_York" in error
    assert Message.objects.count() == 0


# -- compose: one submission, one send (the form's key) ----------------------------------------


def rendered_key(response) -> str:
    match = re.search(r'name="submission_key" value="([^"]*)"', response.content.decode())
    assert match, "the form carries no submission key"
    return match.group(1)


@pytest.mark.django_db
def test_each_compose_form_carries_a_key_of_its_own(sender_client):
    first = rendered_key(sender_client.get(reverse("smsapp:compose")))
    second = rendered_key(sender_client.get(reverse("smsapp:compose")))
    assert len(first) >= 22
    assert first != second


@pytest.mark.django_db
def test_posting_the_same_form_twice_sends_once_and_shows_the_same_result(
    sender_client, sms_settings
):
    form = {"to": "+16505550101, +16505550102", "text": "Hello", "submission_key": KEY}

    first = sender_client.post(reverse("smsapp:compose"), form, follow=True)
    again = sender_client.post(reverse("smsapp:compose"), form, follow=True)

    assert Message.objects.count() == 2
    for response in (first, again):
        assert response.redirect_chain == [(reverse("smsapp:history"), 302)]
        assert "2 texts queued for sending." in page_text(response)
    assert "already been sent: it was sent once, not again" in page_text(again)
    assert "already been sent" not in page_text(first)


@pytest.mark.django_db
def test_confirm_pressed_twice_sends_once(sender_client, sms_settings):
    many = [f"+1650555{i:04d}" for i in range(11)]  # above SMS_CONFIRM_RECIPIENTS_ABOVE
    asked = sender_client.post(
        reverse("smsapp:compose"), {"to": ", ".join(many), "text": "Hi", "submission_key": KEY}
    )
    assert "Confirm" in asked.content.decode()
    confirm = {
        "to": ", ".join(many),
        "text": "Hi",
        "confirmed": "11",
        "action": "confirm",
        "submission_key": rendered_key(asked),  # the confirmation page carries it on
    }

    for _ in range(2):
        response = sender_client.post(reverse("smsapp:compose"), confirm, follow=True)
        assert "11 texts queued for sending." in page_text(response)

    assert rendered_key(asked) == KEY
    assert Message.objects.count() == 11


@pytest.mark.django_db
def test_a_form_with_errors_keeps_its_key_so_the_corrected_send_is_the_same_submission(
    sender_client, sms_settings
):
    wrong = {"to": "+16505550101, 555-12", "text": "Hello", "submission_key": KEY}
    response = sender_client.post(reverse("smsapp:compose"), wrong)

    assert rendered_key(response) == KEY
    for _ in range(2):
        sender_client.post(reverse("smsapp:compose"), {**wrong, "to": "+16505550101"})
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_spent_form_sent_again_with_changes_says_so_and_a_fresh_key_sends(
    sender_client, sms_settings
):
    # Sent, then the browser's Back button, an edit and Send: the same key, another text.
    sender_client.post(
        reverse("smsapp:compose"), {"to": "+16505550101", "text": "One", "submission_key": KEY}
    )
    changed = {"to": "+16505550101", "text": "Two", "submission_key": KEY}

    refused = sender_client.post(reverse("smsapp:compose"), changed)

    assert refused.status_code == 200
    assert "This form was already used to send 1 text" in page_text(refused)
    assert list(Message.objects.values_list("text", flat=True)) == ["One"]
    fresh = rendered_key(refused)
    assert fresh != KEY
    sent = sender_client.post(
        reverse("smsapp:compose"), {**changed, "submission_key": fresh}, follow=True
    )
    assert "1 text queued for sending." in page_text(sent)
    assert sorted(Message.objects.values_list("text", flat=True)) == ["One", "Two"]


@pytest.mark.django_db
def test_a_damaged_key_is_an_error_and_the_form_comes_back_with_a_good_one(
    sender_client, sms_settings
):
    form = {"to": "+16505550101", "text": "Hi", "submission_key": "not a key!"}

    response = sender_client.post(reverse("smsapp:compose"), form)

    assert "The submission key must be" in page_text(response)
    assert Message.objects.count() == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", rendered_key(response))


@pytest.mark.django_db
def test_a_post_without_a_key_still_sends(sender_client, sms_settings):
    # A client that predates the field: it works, without the protection.
    sender_client.post(reverse("smsapp:compose"), {"to": "+16505550101", "text": "Hi"})
    sender_client.post(reverse("smsapp:compose"), {"to": "+16505550101", "text": "Hi"})
    assert Message.objects.count() == 2


# -- the live preview --------------------------------------------------------------------------


def test_preview_shows_numbers_as_they_will_be_sent_and_the_segments(sender_client):
    response = sender_client.post(
        reverse("smsapp:compose-preview"), {"to": "(650) 555-0101 nope", "text": "Hi “you”"}
    )
    data = response.json()
    assert data["numbers"] == ["+16505550101"]
    assert data["invalid"] == ["nope"]
    assert data["encoding"] == "UCS-2"
    assert data["ucs2_characters"] == ["“", "”"]


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


# -- history: filters, rows, pages -------------------------------------------------------------


def history(client, **params) -> str:
    return client.get(reverse("smsapp:history"), params).content.decode()


def shown_numbers(page: str) -> set[str]:
    return set(re.findall(r'<td class="to"><a [^>]*>(\+\d+)</a></td>', page))


def test_history_is_newest_first_filterable_and_paginated(sender_client, sender, sms_settings):
    for index in range(30):
        services.message_create(
            to_numbers=[f"+165055501{index:02d}"], text=f"n{index}", created_by=sender
        )
    Message.objects.filter(to_number="+16505550105").update(status=Status.FAILED)
    first_page = sender_client.get(reverse("smsapp:history")).content.decode()
    assert first_page.index("+16505550129") < first_page.index("+16505550128")
    assert "+16505550101" not in first_page  # on page 2
    assert "Page 1 of 2" in first_page
    failed = sender_client.get(reverse("smsapp:history"), {"status": "failed"}).content.decode()
    assert "+16505550105" in failed
    assert "+16505550106" not in failed
    by_number = sender_client.get(reverse("smsapp:history"), {"recipient": "5550117"})
    assert "+16505550117" in by_number.content.decode()
    assert "+16505550118" not in by_number.content.decode()


@pytest.mark.parametrize(
    "typed",
    ["650 555 0101", "(650) 555-0101", "+1 650-555-0101", "16505550101", "+16505550101"],
)
def test_recipient_filter_finds_a_number_however_it_is_typed(sender_client, sms_settings, typed):
    create_text("+16505550101")
    create_text("+16505550102")
    create_text("+442079460101")  # ends in the same digits, another number

    assert shown_numbers(history(sender_client, recipient=typed)) == {"+16505550101"}


def test_recipient_filter_matches_partial_digits_anywhere(sender_client, sms_settings):
    create_text("+16505550101")
    create_text("+16505550102")
    create_text("+14155550199")

    assert shown_numbers(history(sender_client, recipient="5550101")) == {"+16505550101"}
    assert shown_numbers(history(sender_client, recipient="555-010")) == {
        "+16505550101",
        "+16505550102",
    }
    assert shown_numbers(history(sender_client, recipient="650")) == {
        "+16505550101",
        "+16505550102",
    }


def test_recipient_filter_without_digits_finds_nothing(sender_client, sms_settings):
    create_text("+16505550101")
    page = history(sender_client, recipient="pat")
    assert shown_numbers(page) == set()
    assert "No texts match these filters" in page


def test_date_filters_are_labelled_apart_from_the_to_column(sender_client, sms_settings):
    create_text()
    page = history(sender_client)
    labels = re.findall(r"<label for=\"id_(\w+)\">([^<]+)</label>", page)
    assert dict(labels) == {
        "recipient": "Recipient number",
        "status": "Status",
        "day_from": "Created from",
        "day_to": "Created until",
    }


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


def test_history_rows_show_the_current_reason_of_waiting_and_failed_texts(
    sender_client, sms_settings, simulator
):
    failed = delivery_failed(simulator, OPTED_OUT, "SMS-RC-413")
    waiting = create_text("+16505550102")
    reason = "Attempt 1 failed (RingCentral answered 503); retrying in 12 s"
    Message.objects.filter(pk=waiting.pk).update(error_code="CMN-301", error_reason=reason)
    delivered = create_text("+16505550103")
    # A reason left from an attempt before the text was delivered is not its current reason.
    Message.objects.filter(pk=delivered.pk).update(status=Status.DELIVERED, error_reason="old")

    page = history(sender_client)

    assert f'data-reason-for="{waiting.pk}" title="{reason}">{reason}</small>' in page
    # The row shows what happened (the first sentence); what to do is in the tooltip.
    shown = re.search(rf'data-reason-for="{failed.pk}" title="([^"]*)">([^<]*)</small>', page)
    assert shown.group(2) == (
        "The recipient has opted out of texts from this number (they replied STOP)."
    )
    assert shown.group(1).startswith(shown.group(2) + " Nothing can reach them")
    assert re.search(rf'data-reason-for="{delivered.pk}" title="" hidden></small>', page)


def test_only_the_first_history_page_grows_live(sender_client, sms_settings):
    services.message_create(to_numbers=[f"+165055501{n:02d}" for n in range(30)], text="n")
    assert "data-live-after" in history(sender_client)
    assert "data-live-after" not in history(sender_client, page=2)


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


# -- the status answer statuses.js polls -------------------------------------------------------


def test_status_endpoint_reports_current_statuses_and_ignores_a_word_among_the_ids(
    sender_client, sms_settings
):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    response = sender_client.get(reverse("smsapp:statuses"), {"ids": f"{message.pk},oops"})
    assert response.json() == {"messages": {str(message.pk): QUEUED_STATUS}}


def test_the_plain_status_answer_for_the_detail_page_has_no_rows(sender_client, sms_settings):
    message = create_text()
    answer = sender_client.get(reverse("smsapp:statuses"), {"ids": str(message.pk)}).json()
    assert answer == {"messages": {str(message.pk): QUEUED_STATUS}}


def test_status_endpoint_gives_history_rows_and_texts_created_since(
    sender_client, sender, sms_settings
):
    old = create_text("+16505550101")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    page = history(sender_client)
    after = int(re.search(r'data-live-after="(\d+)"', page).group(1))
    assert after == old.pk  # created long enough ago: final

    newer = services.message_create(
        to_numbers=["+16505550102", "+16505550103"], text="From the command line"
    )
    Message.objects.filter(pk=old.pk).update(
        status=Status.QUEUED, error_code="CMN-301", error_reason="Waiting 30 s: rate limit"
    )
    answer = sender_client.get(
        reverse("smsapp:statuses"), {"ids": str(old.pk), "view": "history", "after": after}
    ).json()

    assert answer["messages"][str(old.pk)]["status"] == "queued"
    assert answer["rows"][str(old.pk)]["reason"] == "Waiting 30 s: rate limit"
    assert [row["id"] for row in answer["new"]] == [m.pk for m in reversed(newer)]
    first = answer["new"][0]
    assert first["to"] == "+16505550103"
    assert first["text"] == "From the command line"
    assert first["url"] == reverse("smsapp:detail", args=[first["id"]])
    assert first["label"] == "queued"
    assert first["sent_by"] == "—"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", first["created"])
    # Just created: they may still be joined by a slower sender's texts with lower ids, so the
    # cursor stays until they are old enough.
    assert answer["after"] == after


def test_new_rows_follow_the_page_filters(sender_client, sms_settings):
    create_text("+16505550101")
    scheduled = create_text("+16505550102", send_at=timezone.now() + timedelta(hours=2))
    create_text("+14155550199")

    answer = sender_client.get(
        reverse("smsapp:statuses"),
        {"ids": "", "view": "history", "after": 0, "recipient": "(650) 555-0102"},
    ).json()

    assert [row["id"] for row in answer["new"]] == [scheduled.pk]
    assert answer["new"][0]["scheduled_for"]
    other_filter = sender_client.get(
        reverse("smsapp:statuses"), {"ids": "", "view": "history", "after": 0, "status": "failed"}
    ).json()
    assert other_filter["new"] == []


@pytest.mark.django_db
def test_status_endpoint_ignores_ids_that_cannot_be_message_ids(sender_client, sms_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    ids = f"{message.pk},99999999999999999999,\N{SUPERSCRIPT TWO},-3,0"

    response = sender_client.get(reverse("smsapp:statuses"), {"ids": ids})

    assert response.status_code == 200
    assert list(response.json()["messages"]) == [str(message.pk)]


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


# -- detail, cancel (a confirmation step) and Send again ---------------------------------------


def test_detail_shows_the_timeline(sender_client, sms_settings, simulator):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    services.message_send(message_id=message.pk)
    page = sender_client.get(reverse("smsapp:detail", args=[message.pk])).content.decode()
    assert "Accepted by RingCentral" in page
    assert page.index("Queued") < page.index("Accepted by RingCentral")


def test_a_scheduled_text_can_be_canceled_with_a_post(sender_client, sms_settings):
    [message] = services.message_create(
        to_numbers=["+16505550101"], text="hi", send_at=timezone.now() + timedelta(hours=1)
    )
    assert sender_client.get(reverse("smsapp:cancel", args=[message.pk])).status_code == 405
    response = sender_client.post(reverse("smsapp:cancel", args=[message.pk]), follow=True)
    assert "was canceled" in response.content.decode()
    message.refresh_from_db()
    assert message.status == Status.CANCELED


def test_a_failed_text_can_be_sent_again(sender_client, sms_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED)
    response = sender_client.post(reverse("smsapp:retry", args=[message.pk]), follow=True)
    assert "queued again" in response.content.decode()
    message.refresh_from_db()
    assert message.status == Status.QUEUED


def test_cancel_asks_first_on_a_page_of_its_own(sender_client, sms_settings):
    message = create_text(send_at=timezone.now() + timedelta(hours=1))
    cancel_url = reverse("smsapp:cancel", args=[message.pk])

    detail = sender_client.get(reverse("smsapp:detail", args=[message.pk])).content.decode()
    # The detail page only links to the step; no form there posts to "cancel".
    assert f'action="{cancel_url}"' not in detail
    assert "?confirm=cancel" in detail

    step = sender_client.get(reverse("smsapp:detail", args=[message.pk]), {"confirm": "cancel"})
    page = step.content.decode()
    assert "Cancel text #" in page
    assert f'action="{cancel_url}"' in page
    assert "Yes, cancel it" in page
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED  # looking at the step changes nothing

    done = sender_client.post(cancel_url, follow=True).content.decode()
    assert "was canceled" in done
    assert "Canceled before it was sent by sam" in done  # the timeline names who


def test_the_cancel_step_for_a_text_already_sent_offers_nothing(sender_client, sms_settings):
    message = create_text()
    page = sender_client.get(
        reverse("smsapp:detail", args=[message.pk]), {"confirm": "cancel"}
    ).content.decode()
    assert "can no longer be canceled" in page
    assert reverse("smsapp:cancel", args=[message.pk]) not in page


def test_send_again_is_not_offered_or_done_for_an_opted_out_recipient(
    sender_client, sms_settings, simulator
):
    message = delivery_failed(simulator, OPTED_OUT, "SMS-RC-413")
    retry_url = reverse("smsapp:retry", args=[message.pk])

    detail = sender_client.get(reverse("smsapp:detail", args=[message.pk])).content.decode()
    assert f'action="{retry_url}"' not in detail
    assert "“Send again” is not offered" in detail
    assert "SMS-RC-413" in detail

    answer = sender_client.post(retry_url, follow=True).content.decode()
    assert "was not sent again" in answer
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert simulator.counters()["sms_accepted"] == 1


def test_after_send_again_the_detail_page_says_the_attempts_restarted(
    sender_client, sms_settings, simulator
):
    message = delivery_failed(simulator, "+16505550101", "SMS-CAR-500")
    assert message.attempts == 1
    detail_url = reverse("smsapp:detail", args=[message.pk])
    before = sender_client.get(detail_url).content.decode()
    assert re.search(r"<dt>Attempts</dt>\s*<dd>1</dd>", before)

    sender_client.post(reverse("smsapp:retry", args=[message.pk]))
    services.message_send(message_id=message.pk)

    page = sender_client.get(detail_url).content.decode()
    assert re.search(r"<dd>1 since it was sent again at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)
    assert "Sent again 1 time;" in page
    assert "Retry requested by sam" in page  # the timeline names who


# -- Your settings -----------------------------------------------------------------------------


def test_your_settings_is_in_the_nav_and_offers_the_zones_with_the_browsers_first(
    sender_client,
):
    sender_client.cookies["tz"] = "America%2FNew_York"

    response = sender_client.get(reverse("smsapp:settings"))
    page = response.content.decode()

    assert f'href="{reverse("smsapp:settings")}" aria-current="page">Your settings' in page
    assert re.search(r'<option value="" selected>Use my browser\S+s time zone</option>', page)
    assert '<optgroup label="Asia">' in page
    assert '<option value="Asia/Kolkata">Kolkata</option>' in page
    assert "US/Eastern" not in page  # aliases would list most places twice
    assert "Your browser's time zone: America/New_York." in page_text(response)


def test_saving_a_zone_shows_times_in_it_and_empty_goes_back_to_the_browsers(sender_client, sender):
    sender_client.cookies["tz"] = "America%2FNew_York"

    saved = sender_client.post(
        reverse("smsapp:settings"), {"time_zone": "Asia/Kolkata"}, follow=True
    )

    assert "Saved: times are shown in Asia/Kolkata." in page_text(saved)
    assert "Times are shown in Asia/Kolkata (IST), the zone you picked below." in page_text(saved)
    assert UserPreferences.objects.get(user=sender).time_zone == "Asia/Kolkata"

    reset = sender_client.post(reverse("smsapp:settings"), {"time_zone": ""}, follow=True)

    assert "Saved: times are shown in your browser's time zone." in page_text(reset)
    assert "America/New_York (E" in page_text(reset)
    assert UserPreferences.objects.get(user=sender).time_zone == ""


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "US/Eastern"])
def test_a_zone_not_offered_is_a_field_error_and_nothing_is_saved(sender_client, sender, zone):
    response = sender_client.post(reverse("smsapp:settings"), {"time_zone": zone})

    assert response.status_code == 200
    assert "Select a valid choice" in field_errors(response, "time_zone")
    assert not UserPreferences.objects.filter(user=sender).exists()


def test_your_settings_is_for_staff_senders_only(client, django_user_model):
    assert client.get(reverse("smsapp:settings")).status_code == 302  # to sign in
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-12345678"))
    assert client.get(reverse("smsapp:settings")).status_code == 403
    assert client.post(reverse("smsapp:settings"), {"time_zone": "UTC"}).status_code == 403
    assert not UserPreferences.objects.exists()


# -- every page --------------------------------------------------------------------------------


def test_every_page_links_a_favicon_that_exists(client, sender_client):
    for page in (
        client.get(reverse("login")),
        sender_client.get(reverse("smsapp:history")),
        sender_client.get("/no-such-page/"),
    ):
        assert '<link rel="icon" href="/static/smsapp/favicon.svg"' in page.content.decode()
    assert finders.find("smsapp/favicon.svg")
