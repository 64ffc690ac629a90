"""The message admin: a list and a timeline to look at, retry and cancel for those who may send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smsapp import services
from smsapp.models import Message

pytestmark = pytest.mark.django_db
Status = Message.Status
CHANGELIST = "admin:smsapp_message_changelist"


def change_url(message: Message) -> str:
    return reverse("admin:smsapp_message_change", args=[message.pk])


def create(number: str = "+16505550101", **kwargs) -> Message:
    [message] = services.message_create(to_numbers=[number], text="Your table is ready", **kwargs)
    return message


def sent(number: str = "+16505550102") -> Message:
    message = create(number)
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def failed(settings, number: str = "+16505550103") -> Message:
    """Failed for real: RingCentral refuses a sender number the extension does not own."""
    real_sender = settings.SMS_FROM_NUMBER
    settings.SMS_FROM_NUMBER = "+16505550123"
    message = create(number)
    services.message_send(message_id=message.pk)
    settings.SMS_FROM_NUMBER = real_sender
    message.refresh_from_db()
    assert message.status == Status.FAILED
    return message


def run_action(client: Client, action: str, *selected: Message):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [m.pk for m in selected], "index": 0},
        follow=True,
    )


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def staff_user(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="unused-77", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_superuser_sees_the_list_with_its_filters_and_can_filter_by_sender(
    admin_client: Client, sms_settings, simulator, admin_user: User
):
    mine = services.message_create(to_numbers=["+16505550101"], text="hi", created_by=admin_user)[0]
    sms_settings.SMS_FROM_NUMBER = "+16505550177"
    other = create("+16505550102")

    page = admin_client.get(reverse(CHANGELIST))

    assert page.status_code == 200
    html = page.content.decode()
    assert mine.to_number in html
    assert other.to_number in html
    titles = [spec.title for spec in page.context["cl"].filter_specs]
    assert titles == ["status", "created at", "sender", "created by"]
    assert 'name="q"' in html  # the search box
    only_other = admin_client.get(reverse(CHANGELIST), {"sender": "+16505550177"})
    assert list(only_other.context["cl"].result_list) == [other]
    searched = admin_client.get(reverse(CHANGELIST), {"q": "5550101"})
    assert list(searched.context["cl"].result_list) == [mine]


def test_change_page_shows_the_timeline_in_order_and_nothing_to_edit(
    admin_client: Client, sms_settings, simulator
):
    message = sent()

    html = admin_client.get(change_url(message)).content.decode()

    queued, sending, accepted = (
        html.index("Queued"),
        html.index("Sending"),
        html.index("Accepted by RingCentral"),
    )
    assert queued < sending < accepted
    assert message.provider_message_id in html
    assert 'name="_save"' not in html
    assert 'name="to_number"' not in html
    assert admin_client.get(reverse("admin:smsapp_message_add")).status_code == 403


def test_retry_requeues_a_failed_message_and_reports_the_sent_one_as_skipped(
    admin_client: Client, sms_settings, simulator
):
    broken = failed(sms_settings)
    fine = sent()

    response = run_action(admin_client, "retry_failed", broken, fine)

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.status == Status.QUEUED
    assert broken.error_code == ""
    assert fine.status == Status.SENT
    assert flash(response) == [
        f"Retried 1 message: #{broken.pk}.",
        f"Skipped 1 message, not failed: #{fine.pk} (sent).",
    ]
    assert "Retry requested by admin" in [e.description for e in broken.events.all()]


def test_cancel_cancels_a_scheduled_message_and_skips_a_queued_one(
    admin_client: Client, sms_settings
):
    later = create(send_at=timezone.now() + timedelta(hours=1))
    now = create("+16505550102")

    response = run_action(admin_client, "cancel_scheduled", later, now)

    later.refresh_from_db()
    now.refresh_from_db()
    assert later.status == Status.CANCELED
    assert now.status == Status.QUEUED
    messages = flash(response)
    assert messages[0] == f"Canceled 1 message: #{later.pk}."
    assert f"#{now.pk} (queued)" in messages[1]


def test_staff_without_send_permission_sees_messages_but_cannot_run_the_actions(
    client: Client, sms_settings, simulator
):
    broken = failed(sms_settings)
    later = create(send_at=timezone.now() + timedelta(hours=1))
    client.force_login(staff_user("viewer", "view_message"))

    listing = client.get(reverse(CHANGELIST)).content.decode()
    assert broken.to_number in listing
    assert "retry_failed" not in listing
    assert "cancel_scheduled" not in listing
    detail = client.get(change_url(broken)).content.decode()
    assert "Sending" in detail  # the timeline, without a separate event permission
    run_action(client, "retry_failed", broken)
    run_action(client, "cancel_scheduled", later)

    broken.refresh_from_db()
    later.refresh_from_db()
    assert broken.status == Status.FAILED
    assert later.status == Status.SCHEDULED


def test_staff_with_send_permission_can_retry(client: Client, sms_settings, simulator):
    broken = failed(sms_settings)
    client.force_login(staff_user("sender", "view_message", "send_sms"))

    run_action(client, "retry_failed", broken)

    broken.refresh_from_db()
    assert broken.status == Status.QUEUED
