"""The materialiser: each time a rule falls due becomes ordinary scheduled texts, exactly once,
also with two materialisers at once or one that was stopped; paused and ended rules make none."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from recurring.models import Occurrence, RecurringSend
from recurring.services import materialise
from recurring.services.materialise import occurrence_key, recurring_sends_materialise
from recurring.services.sends import recurring_send_pause, recurring_send_update
from smsapp.models import Message, OptOut
from smsapp.services.dispatch import messages_dispatch_due
from smsapp.services.optouts import optout_add
from tests.recurring.conftest import FROM, NUMBERS, fields_at
from tests.support.concurrency import run_in_threads

Status = Occurrence.Status


def test_a_time_within_the_horizon_becomes_a_scheduled_text_per_recipient(due_soon, sender):
    recurring = due_soon(20, by=sender)
    at = recurring.next_occurrence_at
    done = recurring_sends_materialise()
    assert (done.created, done.skipped, done.failed) == (1, 0, 0)
    occurrence = Occurrence.objects.get(recurring_send=recurring)
    assert (occurrence.occurs_at, occurrence.status, occurrence.message_count) == (
        at,
        Status.CREATED,
        2,
    )
    texts = list(Message.objects.order_by("to_number"))
    assert [(m.to_number, m.status, m.send_at, m.created_by) for m in texts] == [
        (number, Message.Status.SCHEDULED, at, sender) for number in NUMBERS
    ]
    assert {m.submission_key for m in texts} == {occurrence.submission_key}
    assert occurrence.submission_key == occurrence_key(recurring.pk, at)
    recurring.refresh_from_db()
    assert recurring.next_occurrence_at == at + timedelta(days=1)


def test_running_again_makes_nothing_more(due_soon):
    due_soon(20)
    recurring_sends_materialise()
    again = recurring_sends_materialise()
    assert (again.created, again.skipped, again.failed) == (0, 0, 0)
    assert Message.objects.count() == 2


def test_a_time_beyond_the_horizon_waits(due_soon):
    due_soon(120)  # the horizon is 60 s (recurring_settings)
    assert recurring_sends_materialise().created == 0
    assert not Message.objects.exists()


def test_the_dispatcher_queues_the_texts_as_any_scheduled_text(due_soon):
    recurring = due_soon(20)
    recurring_sends_materialise()
    assert messages_dispatch_due() == 2  # within its 30 s horizon
    assert set(Message.objects.values_list("status", "next_attempt_at")) == {
        (Message.Status.QUEUED, recurring.next_occurrence_at)
    }


def test_a_paused_rule_creates_nothing(due_soon):
    recurring = due_soon(20)
    assert recurring_send_pause(recurring=recurring, by=None)
    assert recurring_sends_materialise().created == 0
    assert not Occurrence.objects.exists()
    assert not Message.objects.exists()


def test_an_end_date_stops_it_after_its_last_day(due_soon):
    soon = timezone.now() + timedelta(seconds=20)
    recurring = due_soon(20, ends_on=soon.astimezone(UTC).date())
    assert recurring_sends_materialise().created == 1
    recurring.refresh_from_db()
    assert recurring.next_occurrence_at is None  # nothing after its end date
    for days in (1, 2, 7):
        later = recurring_sends_materialise(now=timezone.now() + timedelta(days=days))
        assert (later.created, later.skipped) == (0, 0)
    assert Occurrence.objects.count() == 1
    assert Message.objects.count() == 2


# -- a materialiser stopped for a while ----------------------------------------------------------


def _stopped_for_three_times(due_soon) -> RecurringSend:
    """Daily, saved four days ago and never materialised since: its times 3, 2 and 1 days ago
    (plus an hour) were missed; the next is in an hour."""
    first = timezone.now() + timedelta(hours=1) - timedelta(days=3)
    recurring = due_soon(
        3600, created_ago=timedelta(days=3, minutes=1), starts_on=first.astimezone(UTC).date()
    )
    assert recurring.next_occurrence_at < timezone.now() - timedelta(days=2)
    return recurring


def test_times_missed_by_more_than_the_grace_are_recorded_as_skipped_not_sent(due_soon):
    recurring = _stopped_for_three_times(due_soon)
    done = recurring_sends_materialise()
    assert (done.created, done.skipped) == (0, 3)
    missed = list(Occurrence.objects.order_by("occurs_at"))
    assert [o.status for o in missed] == [Status.SKIPPED] * 3
    assert "SMS_RECURRING_MISSED_GRACE_SECONDS (300 s)" in missed[0].reason
    assert not Message.objects.exists()
    recurring.refresh_from_db()
    assert recurring.next_occurrence_at > timezone.now()  # the time in an hour, as usual


def test_within_a_long_grace_only_the_latest_missed_time_is_sent_once(due_soon, settings):
    settings.SMS_RECURRING_MISSED_GRACE_SECONDS = 2 * 86400.0  # two days
    _stopped_for_three_times(due_soon)
    done = recurring_sends_materialise()
    assert (done.created, done.skipped) == (1, 2)
    oldest, middle, latest = Occurrence.objects.order_by("occurs_at")
    assert oldest.status == Status.SKIPPED
    assert "more than SMS_RECURRING_MISSED_GRACE_SECONDS" in oldest.reason
    assert (middle.status, middle.reason) == (
        Status.SKIPPED,
        "missed, and a later time was sent instead",
    )
    assert latest.status == Status.CREATED
    assert "sent at once" in latest.reason
    # Late: queued now, one text per recipient, not a burst of three each.
    assert list(Message.objects.values_list("status", flat=True)) == [Message.Status.QUEUED] * 2


# -- what the texts may not do -----------------------------------------------------------------


def test_a_recipient_who_opted_out_since_is_left_out_and_the_others_texted(due_soon):
    recurring = due_soon(20)
    optout_add(our_number=FROM, their_number=NUMBERS[0], source=OptOut.Source.KEYWORD)
    recurring_sends_materialise()
    occurrence = Occurrence.objects.get(recurring_send=recurring)
    assert (occurrence.status, occurrence.message_count) == (Status.CREATED, 1)
    assert f"left out, opted out: {NUMBERS[0]}" in occurrence.reason
    assert list(Message.objects.values_list("to_number", flat=True)) == [NUMBERS[1]]


def test_a_time_that_cannot_be_sent_is_recorded_with_why_and_the_rule_moves_on(due_soon, settings):
    recurring = due_soon(20)
    settings.SMS_FROM_NUMBER = ""  # an admin broke the sender number since
    assert recurring_sends_materialise().failed == 1
    occurrence = Occurrence.objects.get(recurring_send=recurring)
    assert occurrence.status == Status.FAILED
    assert "SMS_FROM_NUMBER" in occurrence.reason
    assert not Message.objects.exists()
    recurring.refresh_from_db()
    assert recurring.next_occurrence_at > timezone.now() + timedelta(hours=23)


def test_a_rule_saved_again_does_not_make_a_time_already_made_twice(due_soon):
    recurring = due_soon(20)
    at = recurring.next_occurrence_at
    recurring_sends_materialise()
    # Saved unchanged: the cursor goes back to the next time from now, the one just made.
    recurring_send_update(recurring=recurring, fields=fields_at(at), by=None)
    assert recurring.next_occurrence_at == at
    assert recurring_sends_materialise().created == 0
    assert Occurrence.objects.count() == 1
    assert Message.objects.count() == 2


# -- two materialisers at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_materialisers_at_once_make_each_time_once(
    recurring_settings, clean_redis, monkeypatch
):
    """Both read the same due rules before either claims one (a barrier holds them): the rule
    lock and the unique (rule, time) must keep each time to one set of texts."""
    from tests.recurring.conftest import fields_at as make_fields

    at = (timezone.now() + timedelta(seconds=20)).replace(microsecond=0)
    from recurring.services.sends import recurring_send_create

    for index in range(10):
        recurring_send_create(fields=make_fields(at, name=f"Rule {index}"), by=None)
    barrier = threading.Barrier(2, timeout=10)
    real = materialise._materialise_one
    waited: set[int] = set()

    def together(pk, **kwargs):
        thread = threading.get_ident()
        if thread not in waited:
            waited.add(thread)
            barrier.wait()
        return real(pk, **kwargs)

    monkeypatch.setattr(materialise, "_materialise_one", together)
    results, errors = run_in_threads(materialise.recurring_sends_materialise)
    assert errors == []
    assert sum(r.created for r in results) == 10
    assert Occurrence.objects.count() == 10
    assert Occurrence.objects.values("recurring_send").distinct().count() == 10
    pairs = list(Message.objects.values_list("submission_key", "to_number"))
    assert len(pairs) == len(set(pairs)) == 20
