"""History filters and live rows, confirmations, "Send again" rules, attempts, and the actor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from smsapp import selectors, services
from smsapp.models import Message
from smsapp.services.messages import resend_refusal

pytestmark = pytest.mark.django_db
Status = Message.Status
OPTED_OUT = "+16505550177"


def create(number: str = "+16505550101", **kwargs) -> Message:
    [message] = services.message_create(to_numbers=[number], text="Your table is ready", **kwargs)
    return message


def sent(number: str) -> Message:
    message = create(number)
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def delivery_failed(simulator, number: str, code: str) -> Message:
    """Failed for real: the simulator reports `code` for the number, the status check reads it."""
    simulator.configure(failing_numbers={number: code})
    message = sent(number)
    simulator.advance_clock(10)  # past the simulator's delivery delay
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    assert message.status == Status.FAILED, message.error_reason
    assert message.error_code == code
    return message


def history(client, **params) -> str:
    return client.get(reverse("smsapp:history"), params).content.decode()


def shown_numbers(page: str) -> set[str]:
    return set(re.findall(r'<td class="to">(\+\d+)</td>', page))


# -- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["650 555 0101", "(650) 555-0101", "+1 650-555-0101", "16505550101", "+16505550101"],
)
def test_recipient_filter_finds_a_number_however_it_is_typed(sender_client, sms_settings, typed):
    create("+16505550101")
    create("+16505550102")
    create("+442079460101")  # ends in the same digits, another number

    assert shown_numbers(history(sender_client, recipient=typed)) == {"+16505550101"}


def test_recipient_filter_matches_partial_digits_anywhere(sender_client, sms_settings):
    create("+16505550101")
    create("+16505550102")
    create("+14155550199")

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
    create("+16505550101")
    page = history(sender_client, recipient="pat")
    assert shown_numbers(page) == set()
    assert "No texts match these filters" in page


def test_date_filters_are_labelled_apart_from_the_to_column(sender_client, sms_settings):
    create()
    page = history(sender_client)
    labels = re.findall(r"<label for=\"id_(\w+)\">([^<]+)</label>", page)
    assert dict(labels) == {
        "recipient": "Recipient number",
        "status": "Status",
        "day_from": "Created from",
        "day_to": "Created until",
    }


# -- rows: current reason, live updates --------------------------------------------------------


def test_history_rows_show_the_current_reason_of_waiting_and_failed_texts(
    sender_client, sms_settings, simulator
):
    failed = delivery_failed(simulator, OPTED_OUT, "SMS-RC-413")
    waiting = create("+16505550102")
    reason = "Attempt 1 failed (RingCentral answered 503); retrying in 12 s"
    Message.objects.filter(pk=waiting.pk).update(error_code="CMN-301", error_reason=reason)
    delivered = create("+16505550103")
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


def test_status_endpoint_gives_history_rows_and_texts_created_since(
    sender_client, sender, sms_settings
):
    old = create("+16505550101")
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
    create("+16505550101")
    scheduled = create("+16505550102", send_at=timezone.now() + timedelta(hours=2))
    create("+14155550199")

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


def test_only_the_first_history_page_grows_live(sender_client, sms_settings):
    services.message_create(to_numbers=[f"+165055501{n:02d}" for n in range(30)], text="n")
    assert "data-live-after" in history(sender_client)
    assert "data-live-after" not in history(sender_client, page=2)


def test_the_plain_status_answer_for_the_detail_page_has_no_rows(sender_client, sms_settings):
    message = create()
    answer = sender_client.get(reverse("smsapp:statuses"), {"ids": str(message.pk)}).json()
    assert answer == {
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


# -- cancel: a confirmation step ---------------------------------------------------------------


def test_cancel_asks_first_on_a_page_of_its_own(sender_client, sms_settings):
    message = create(send_at=timezone.now() + timedelta(hours=1))
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
    message = create()
    page = sender_client.get(
        reverse("smsapp:detail", args=[message.pk]), {"confirm": "cancel"}
    ).content.decode()
    assert "can no longer be canceled" in page
    assert reverse("smsapp:cancel", args=[message.pk]) not in page


# -- "Send again" ----------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        ("SMS-RC-413", True),  # opted out
        ("SMS-XY-413", True),  # any *-413 is an opt-out, listed or not
        ("SMS-CAR-411", True),  # landline or invalid: permanent
        ("SMS-CAR-500", False),  # carrier failure: retry later
        ("SMS-UP-414", False),  # the sender's 10DLC registration: fixable by an admin
        ("SMS-CAR-999", False),  # not in the table: its reason says a resend may work
        ("MSG-242", False),  # refused at sending, not a delivery code
    ],
)
def test_which_failures_may_be_sent_again(sms_settings, code, refused):
    message = create()
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, error_code=code)
    message.refresh_from_db()

    assert bool(resend_refusal(message)) is refused
    assert services.message_retry(message=message) is not refused
    message.refresh_from_db()
    assert message.status == (Status.FAILED if refused else Status.QUEUED)


def test_the_service_refuses_an_opt_out_even_from_a_stale_read(sms_settings):
    message = create()
    stale = Message.objects.get(pk=message.pk)
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, error_code="SMS-RC-413")
    stale.status = Status.FAILED  # read before the code was known

    assert services.message_retry(message=stale) is False
    message.refresh_from_db()
    assert message.status == Status.FAILED


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


def test_message_attempts_counts_series_from_the_timeline(sms_settings):
    message = create()
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, attempts=3)
    services.message_retry(message=message)
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, attempts=2)
    services.message_retry(message=message)
    message.refresh_from_db()

    attempts = selectors.message_attempts(message, message.events.all())

    assert (attempts.current, attempts.resends) == (0, 2)
    assert attempts.since == message.events.order_by("id").last().created_at


# -- the admin's actions name who acted; admin times have seconds and a zone -------------------


def test_admin_cancel_names_who_canceled_and_shows_times_with_seconds_and_zone(
    client, sms_settings
):
    staff = User.objects.create_user("alex", password="unused-77", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_message", "send_sms"])
    )
    client.force_login(staff)
    message = create(send_at=timezone.now() + timedelta(hours=1))

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
    opted_out = create()
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


# -- pages: favicon ------------------------------------------------------------------------------


def test_every_page_links_a_favicon_that_exists(client, sender_client):
    for page in (
        client.get(reverse("login")),
        sender_client.get(reverse("smsapp:history")),
        sender_client.get("/no-such-page/"),
    ):
        assert '<link rel="icon" href="/static/smsapp/favicon.svg"' in page.content.decode()
    assert finders.find("smsapp/favicon.svg")
