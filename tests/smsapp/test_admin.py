"""smsapp/admin.py: the message list and timeline to look at; retry and cancel for those who
may send, naming who acted; search and counts that stay cheap on a big table."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smsapp import paging, services
from smsapp.models import Message
from tests.support.tables import add_texts, analyze, plan_of
from tests.support.texts import create_text, failed_at_sending, sent

pytestmark = pytest.mark.django_db
Status = Message.Status
CHANGELIST = "admin:smsapp_message_changelist"


def change_url(message: Message) -> str:
    return reverse("admin:smsapp_message_change", args=[message.pk])


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
    other = create_text("+16505550102")

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
    broken = failed_at_sending(sms_settings)
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
    later = create_text(send_at=timezone.now() + timedelta(hours=1))
    now = create_text("+16505550102")

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
    broken = failed_at_sending(sms_settings)
    later = create_text(send_at=timezone.now() + timedelta(hours=1))
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
    broken = failed_at_sending(sms_settings)
    client.force_login(staff_user("sender", "view_message", "send_sms"))

    run_action(client, "retry_failed", broken)

    broken.refresh_from_db()
    assert broken.status == Status.QUEUED


# -- the actions name who acted; times have seconds and a zone ---------------------------------


def test_admin_cancel_names_who_canceled_and_shows_times_with_seconds_and_zone(
    client, sms_settings
):
    staff = User.objects.create_user("alex", password="unused-77", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_message", "send_sms"])
    )
    client.force_login(staff)
    message = create_text(send_at=timezone.now() + timedelta(hours=1))

    client.post(
        reverse("admin:smsapp_message_changelist"),
        {"action": "cancel_scheduled", "_selected_action": [message.pk], "index": 0},
    )
    page = client.get(reverse("admin:smsapp_message_change", args=[message.pk])).content.decode()

    assert "Canceled before it was sent by alex" in page
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    created = re.search(r'field-created".*?<div class="readonly">(.*?)</div>', page, re.S)
    assert re.fullmatch(stamp, created.group(1))
    assert "a.m." not in page
    assert "p.m." not in page
    listing = client.get(reverse("admin:smsapp_message_changelist")).content.decode()
    assert re.search(rf'<td class="field-created">{stamp}</td>', listing)


def test_admin_retry_names_texts_that_cannot_be_sent_again(client, sms_settings):
    staff = User.objects.create_user("alex", password="unused-77", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_message", "send_sms"])
    )
    client.force_login(staff)
    opted_out = create_text()
    Message.objects.filter(pk=opted_out.pk).update(status=Status.FAILED, error_code="SMS-RC-413")

    page = client.post(
        reverse("admin:smsapp_message_changelist"),
        {"action": "retry_failed", "_selected_action": [opted_out.pk], "index": 0},
        follow=True,
    ).content.decode()

    assert "failed in a way sending again cannot fix" in page
    assert f"#{opted_out.pk}" in page
    opted_out.refresh_from_db()
    assert opted_out.status == Status.FAILED


# -- a big table: exact search, estimated counts, indexes --------------------------------------


@pytest.fixture
def admin_client_logged_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", password="x" * 20))
    return client


def test_admin_search_matches_a_number_as_typed_or_its_digits_an_id_and_a_ringcentral_id(
    admin_client_logged_in,
):
    add_texts(3, to_number="+16505550101")
    add_texts(3, to_number="+16505550177")
    other = Message.objects.filter(to_number="+16505550177").first()
    Message.objects.filter(pk=other.pk).update(provider_message_id="99001")
    url = reverse("admin:smsapp_message_changelist")

    def found(term: str) -> set[int]:
        response = admin_client_logged_in.get(url, {"q": term})
        return {m.pk for m in response.context["cl"].result_list}

    to_0101 = set(Message.objects.filter(to_number="+16505550101").values_list("pk", flat=True))
    assert found("(650) 555-0101") == to_0101
    assert found(f"#{other.pk}") == {other.pk}
    assert found("99001") == {other.pk}
    to_0177 = set(Message.objects.filter(to_number="+16505550177").values_list("pk", flat=True))
    assert found("0177") == to_0177  # some digits, as in the history's filter
    assert found("Reminder") == set()  # not a number, an id or a RingCentral id


def test_admin_list_says_about_when_estimated_and_filters_by_who_sent(
    monkeypatch, admin_client_logged_in, django_user_model
):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 30)
    ann = django_user_model.objects.create(username="ann")
    add_texts(300, by=ann)
    add_texts(10)
    analyze()
    url = reverse("admin:smsapp_message_changelist")
    page = admin_client_logged_in.get(url).content.decode()
    assert re.search(r"about \d+ messages", page)

    response = admin_client_logged_in.get(url, {"created_by__id__exact": ann.pk})
    assert response.context["cl"].result_count >= 250
    assert all(m.created_by_id == ann.pk for m in response.context["cl"].result_list)
    changelist = response.context["cl"]
    choices = [c["display"] for spec in changelist.filter_specs for c in spec.choices(changelist)]
    assert "ann" in choices
    assert "boss" not in choices


@pytest.mark.parametrize("typed", ["²", "99999999999999999999", "ann"])
def test_a_created_by_filter_that_names_no_one_shows_every_text(
    admin_client_logged_in, django_user_model, typed
):
    # Someone created texts: a filter with no choices is never applied at all.
    add_texts(3, by=django_user_model.objects.create(username="ann"))
    url = reverse("admin:smsapp_message_changelist")
    response = admin_client_logged_in.get(url, {"created_by__id__exact": typed})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3


def test_admin_search_conditions_each_use_their_index():
    add_texts(200)
    analyze()
    from django.contrib import admin

    search = admin.site._registry[Message].get_search_results
    for term in ("650 555 0101", "0101", "12"):
        found, _ = search(None, Message.objects.all(), term)
        # An OR of plain conditions is a BitmapOr of index scans; an OR with a subquery in
        # it (what the first version did) filters every row of the table instead.
        assert "BitmapOr" in plan_of(found, only_by_condition=True), term
