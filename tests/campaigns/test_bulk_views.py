"""Bulk send pages: upload with errors beside the fields, the preview's lines and totals,
confirm once, live progress, results as CSV, pause, resume and cancel."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import BulkRecipient, BulkSend
from campaigns.services.feed import bulk_feed
from harness.contacts import TEXT, contacts_csv
from smsapp.models import Message
from tests.support.pages import field_errors, page_text


@pytest.fixture
def pipeline(sms_settings, db):
    sms_settings.SMS_A2P_FROM_NUMBER = ""
    sms_settings.SMS_RATE_LIMIT_PER_MINUTE = 40
    return sms_settings


def post_upload(client, data: bytes, text: str = TEXT, name: str = "list.csv", **extra):
    return client.post(
        reverse("campaigns:bulk-new"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "text": text, **extra},
    )


def test_upload_leads_to_a_preview_with_totals_lines_and_reasons(sender_client, pipeline):
    response = post_upload(sender_client, contacts_csv(30, bad=3))
    bulk = BulkSend.objects.get()
    assert response.url == reverse("campaigns:bulk-detail", args=[bulk.pk])
    page = page_text(sender_client.get(response.url))
    assert "Texts to send 27" in page
    assert "Not sent 3 of 30 lines" in page
    assert "“555-12” is not a phone number" in page
    assert "the same number as line 2" in page
    assert "empty {first_name}" in page
    assert "Hi Ana, a reminder of your appointment on Dec 1 at 9:00." in page
    assert "under a minute at 40 a minute" in page  # 27 texts at 40 a minute
    assert "Send 27 texts" in page
    assert not Message.objects.exists()  # nothing is sent before the confirmation


@pytest.mark.parametrize(
    ("data", "text", "field", "words"),
    [
        (b"", TEXT, "file", "empty"),
        (b"\xff\xfeP\x00", TEXT, "file", "UTF-8"),
        (b"Name,City\nAna,Oslo\n", "Hi {name}", "phone_column", "Which column"),
        (contacts_csv(2), "Hi {nickname}", "text", "no column for {nickname}"),
        (contacts_csv(2), "Hi {", "text", "lone"),
        (contacts_csv(2), "  ", "text", "Write the text"),
    ],
)
def test_a_bad_upload_says_what_is_wrong_beside_its_field_and_keeps_nothing(
    sender_client, pipeline, data, text, field, words
):
    response = post_upload(sender_client, data, text)
    assert response.status_code == 200
    assert words in field_errors(response, field)
    assert not BulkSend.objects.exists()


def test_upload_starts_from_a_template(sender_client, pipeline):
    from campaigns.models import Template

    template = Template.objects.create(name="Reminder", text=TEXT)
    form = sender_client.get(reverse("campaigns:bulk-new") + f"?template={template.pk}")
    assert "your appointment on {appointment}" in form.content.decode()
    response = post_upload(sender_client, contacts_csv(2), text="", template=template.pk)
    assert BulkSend.objects.get().text == TEXT
    assert response.status_code == 302


def test_confirm_twice_sends_each_line_once_and_the_progress_page_follows(sender_client, pipeline):
    post_upload(sender_client, contacts_csv(12, bad=2))
    bulk = BulkSend.objects.get()
    detail = reverse("campaigns:bulk-detail", args=[bulk.pk])
    for _ in range(2):
        sender_client.post(detail, {"action": "confirm"})
    bulk_feed()
    bulk_feed()
    assert Message.objects.count() == 10
    live = page_text(sender_client.get(reverse("campaigns:bulk-live", args=[bulk.pk])))
    assert "queued 10" in live
    assert "every line handed over" in live
    page = page_text(sender_client.get(detail))
    assert "Download the results" in page


def test_the_results_csv_has_every_line_with_its_outcome(sender_client, pipeline):
    post_upload(sender_client, contacts_csv(6, bad=1))
    bulk = BulkSend.objects.get()
    sender_client.post(reverse("campaigns:bulk-detail", args=[bulk.pk]), {"action": "confirm"})
    bulk_feed()
    response = sender_client.get(reverse("campaigns:bulk-export", args=[bulk.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["line"] for r in rows] == ["2", "3", "4", "5", "6", "7"]
    assert rows[-1]["status"] == "skipped"
    assert "not a phone number" in rows[-1]["reason"]
    assert {r["status"] for r in rows[:-1]} == {"queued"}


def test_pause_resume_and_cancel_from_the_page(sender_client, pipeline):
    post_upload(sender_client, contacts_csv(5))
    bulk = BulkSend.objects.get()
    detail = reverse("campaigns:bulk-detail", args=[bulk.pk])
    sender_client.post(detail, {"action": "confirm"})
    action = lambda name: reverse("campaigns:bulk-action", args=[bulk.pk, name])  # noqa: E731
    sender_client.post(action("pause"))
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.PAUSED
    sender_client.post(action("resume"))
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.RUNNING
    confirm = page_text(sender_client.get(f"{detail}?confirm=cancel"))
    assert "Yes, cancel the rest" in confirm
    sender_client.post(action("cancel"))
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.CANCELED
    assert set(BulkRecipient.objects.values_list("status", flat=True)) == {"canceled"}


def test_bulk_pages_need_the_send_permission(client, django_user_model, pipeline):
    user = django_user_model.objects.create_user("viewer", password="a-long-test-password")
    client.force_login(user)
    assert client.get(reverse("campaigns:bulk-list")).status_code == 403
    assert client.get(reverse("campaigns:bulk-new")).status_code == 403


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0.1, "under a minute"),
        (1.4, "about 1 minute"),
        (12.6, "about 13 minutes"),
        (250, "about 4.2 hours"),
    ],
)
def test_the_estimate_reads_as_people_say_it(minutes, words):
    from campaigns.selectors import Estimate

    assert Estimate(minutes, 0, "40 a minute").duration == words
