"""smsapp/selectors.py: the reads behind the pages (history, rows, statuses, attempts, ids),
each query read in order from its index."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from smsapp import selectors, services
from smsapp.models import Message, MessageEvent
from smsapp.services.messages import RETRY_EVENT
from tests.support.processes import run_manage
from tests.support.tables import add_texts, analyze, plan_of
from tests.support.texts import create_text

Status = Message.Status


# -- pieces of a row, and ids (no database) -----------------------------------------------------

WHEN = datetime(2026, 12, 1, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "pk"),
    [
        ("42", 42),
        (" 7 ", 7),
        (str(selectors.MAX_MESSAGE_ID), selectors.MAX_MESSAGE_ID),  # the largest bigint
        (str(selectors.MAX_MESSAGE_ID + 1), None),  # no row can have it
        ("99999999999999999999", None),
        ("0", None),
        ("-3", None),
        ("\N{SUPERSCRIPT TWO}", None),  # a digit to str.isdigit(), not to int()
        ("seven", None),
        ("", None),
    ],
)
def test_message_id_is_a_positive_64_bit_id_or_none(text, pk):
    assert selectors.message_id(text) == pk


@override_settings(SMS_DEFAULT_REGION="US")
def test_a_recipient_typed_whole_is_matched_exactly_and_a_part_by_its_digits():
    # Stored numbers are E.164: a whole number is matched as compose would read it.
    assert selectors.recipient_condition("(650) 555-0101") == Q(to_number="+16505550101")
    assert selectors.recipient_condition("555-010") == Q(to_number__contains="555010")
    assert selectors.recipient_condition("pat") is None  # no number contains a word


def test_a_row_shows_the_first_sentence_of_a_reason():
    reason = "The recipient has opted out (they replied STOP). Nothing can reach them until then."
    assert selectors.short_reason(reason) == "The recipient has opted out (they replied STOP)."
    assert selectors.short_reason(" Waiting 30 s: rate limit ") == "Waiting 30 s: rate limit"


@pytest.mark.parametrize(
    ("status", "error_code", "label", "reason"),
    [
        (Status.QUEUED, "CMN-301", "queued", "Why it is so."),  # why it waits
        (Status.FAILED, "MSG-242", "failed", "Why it is so."),
        (Status.SENT, "", "sent", ""),
        (Status.SENT, "NO-RECEIPT", "sent, no delivery receipt", "Why it is so."),
        (Status.DELIVERED, "", "delivered", ""),  # an old attempt's reason is history
    ],
)
def test_the_label_and_reason_a_row_shows_follow_the_status(status, error_code, label, reason):
    message = Message(status=status, error_code=error_code, error_reason="Why it is so.")
    assert selectors.status_label(message) == label
    assert selectors.row_reason(message) == reason


def test_a_history_row_cuts_a_long_text_and_gives_the_schedule_only_while_scheduled():
    long_text = "word " * 40
    scheduled = Message(
        pk=7,
        to_number="+16505550101",
        text=long_text,
        status=Status.SCHEDULED,
        created_at=WHEN,
        send_at=WHEN + timedelta(hours=1),
    )
    queued = Message(
        pk=8,
        to_number="+16505550102",
        text="Hi",
        status=Status.QUEUED,
        created_at=WHEN,
        send_at=WHEN,
    )

    with timezone.override(UTC):
        row, other = selectors.history_rows([scheduled, queued])

    assert (row["id"], row["url"]) == (7, reverse("smsapp:detail", args=[7]))
    assert len(row["text"]) <= selectors.ROW_TEXT_CHARS < len(long_text)
    assert row["text"].endswith("…")
    assert row["scheduled_for"] == "2026-12-01 15:15 UTC"
    assert (row["sent_by"], row["label"], row["can_cancel"]) == ("—", "scheduled", True)
    assert (other["text"], other["scheduled_for"]) == ("Hi", "")


def test_attempts_restart_with_each_send_again():
    message = Message(attempts=2)
    first, second = WHEN, WHEN + timedelta(hours=1)
    events = [
        MessageEvent(description="Queued", created_at=WHEN - timedelta(hours=1)),
        MessageEvent(description=f"{RETRY_EVENT} by sam", created_at=first),
        MessageEvent(description=f"{RETRY_EVENT} by admin", created_at=second),
        MessageEvent(description="Attempt 1 failed", created_at=second + timedelta(minutes=1)),
    ]
    assert selectors.message_attempts(message, events) == selectors.Attempts(2, 2, second)
    assert selectors.message_attempts(message, events[:1]) == selectors.Attempts(2, 0, None)


# -- reads from the database --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_live_cursor_moves_only_past_rows_old_enough_to_be_final(sms_settings):
    old, recent = create_text("+16505550101"), create_text("+16505550102")
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - selectors.NEW_ROWS_SETTLE - timedelta(seconds=1)
    )
    # A slower sender's transaction may still commit a text with an id below `recent`'s.
    assert selectors.new_rows_cursor(0) == old.pk
    assert selectors.new_rows_cursor(recent.pk) == recent.pk  # never lower than asked


# -- attempts ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_message_attempts_counts_series_from_the_timeline(sms_settings):
    message = create_text()
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, attempts=3)
    services.message_retry(message=message)
    Message.objects.filter(pk=message.pk).update(status=Status.FAILED, attempts=2)
    services.message_retry(message=message)
    message.refresh_from_db()

    attempts = selectors.message_attempts(message, message.events.all())

    assert (attempts.current, attempts.resends) == (0, 2)
    assert attempts.since == message.events.order_by("id").last().created_at


# -- the indexes each query reads from (a million texts: docs/scale.md) ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("criteria", "index"),
    [
        ({}, "sms_history"),
        ({"status": Status.FAILED}, "sms_history_by_status"),
        ({"recipient": "+16505550101"}, "sms_history_by_recipient"),
    ],
)
def test_each_history_page_is_read_in_order_from_an_index(criteria, index):
    add_texts(200)
    analyze()
    plan = plan_of(selectors.message_history(**criteria)[:25])
    assert index in plan, plan
    assert "Sort" not in plan, plan  # read in order from the index, not sorted afterwards


@pytest.mark.django_db
def test_digits_of_a_number_are_found_by_the_trigram_index_not_a_scan():
    add_texts(200)
    analyze()
    # Unordered: what the page's bounded count asks, and what a rare number's page costs
    # (walking the history newest first would read every text to find none).
    query = selectors.message_history(recipient="5550101").order_by()
    plan = plan_of(query, only_by_condition=True)
    assert "Bitmap Index Scan on sms_recipient_digits" in plan, plan


@pytest.mark.django_db
def test_distinct_values_walk_the_index(django_user_model):
    ann = django_user_model.objects.create(username="ann")
    bob = django_user_model.objects.create(username="bob")
    add_texts(20, by=bob, from_number="+16505550199")
    add_texts(20, by=ann)
    add_texts(5)  # created by a script: no person
    assert selectors.distinct_message_values("from_number") == ["+16505550100", "+16505550199"]
    assert selectors.distinct_message_values("created_by") == sorted([ann.pk, bob.pk])


# -- ids beyond 64 bits on SQLite, where the ORM raises instead of finding nothing -------------


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


@pytest.mark.processes
def test_huge_ids_on_sqlite_are_ignored_by_the_page_and_refused_by_the_command(base_env, tmp_path):
    env = {**base_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    def manage(*args: str):
        return run_manage(*args, env=env, timeout=120)

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
