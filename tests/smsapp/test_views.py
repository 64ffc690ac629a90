"""The staff pages: sign-in and permissions, compose, history, detail, actions, health."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from smsapp import services
from smsapp.models import Message
from smsapp.permissions import STAFF_SENDERS_GROUP

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_staff_senders_group_exists_with_the_send_permission():
    group = Group.objects.get(name=STAFF_SENDERS_GROUP)
    assert list(group.permissions.values_list("codename", flat=True)) == ["send_sms"]


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


def test_send_at_is_read_in_the_browsers_time_zone_and_must_be_in_the_future(
    sender_client, sms_settings
):
    sender_client.cookies["tz"] = "America/New_York"
    past = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": "2020-01-01T09:00"},
    )
    assert "2020-01-01 09:00 America/New_York is in the past" in past.content.decode()
    later = timezone.now() + timedelta(days=2)
    local = timezone.localtime(later, timezone=zoneinfo.ZoneInfo("America/New_York"))
    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": local.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "1 text scheduled for" in response.content.decode()
    message = Message.objects.get()
    assert message.status == Status.SCHEDULED
    assert abs(message.send_at - later) < timedelta(minutes=1)


def test_preview_shows_numbers_as_they_will_be_sent_and_the_segments(sender_client):
    response = sender_client.post(
        reverse("smsapp:compose-preview"), {"to": "(650) 555-0101 nope", "text": "Hi “you”"}
    )
    data = response.json()
    assert data["numbers"] == ["+16505550101"]
    assert data["invalid"] == ["nope"]
    assert data["encoding"] == "UCS-2"
    assert data["ucs2_characters"] == ["“", "”"]


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


def test_status_endpoint_reports_current_statuses(sender_client, sms_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="hi")
    response = sender_client.get(reverse("smsapp:statuses"), {"ids": f"{message.pk},oops"})
    assert response.json() == {
        "messages": {
            str(message.pk): {
                "status": "queued",
                "label": "queued",
                "error": None,
                "terminal": False,
                "can_cancel": False,
                "can_retry": False,
            }
        }
    }


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


def test_actions_need_the_send_permission(client, django_user_model, sms_settings):
    [message] = services.message_create(
        to_numbers=["+16505550101"], text="hi", send_at=timezone.now() + timedelta(hours=1)
    )
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-123456789"))
    assert client.post(reverse("smsapp:cancel", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED
